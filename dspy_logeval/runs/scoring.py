"""One sample's scores against its labels, and the DSPy composite metric built on them.

rouge-score is imported here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from rouge_score import rouge_scorer

from dspy_logeval.core.config import DEFAULT_WEIGHTS

LABEL_FIELDS = ("root_cause", "severity", "component", "summary", "action_needed")
NO_PREDICTION = "<none>"

# A pod name made by a Deployment (<name>-<replicaset hash>-<5 chars>)
# or by a DaemonSet/Job (<name>-<5 chars>).
_POD_SUFFIX = re.compile(r"-[a-f0-9]{6,10}-[a-z0-9]{5}$|-(?=[a-z0-9]*\d)[a-z0-9]{5}$")


@lru_cache(maxsize=1)
def _scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def normalize_component(component: str | None) -> tuple[str | None, str]:
    """Split a component into (namespace or None, name), lower-cased, pod hash suffix removed.

    Example:
        >>> normalize_component("kube-system/coredns-5d78c9869d-x7k2p")
        ('kube-system', 'coredns')
    """
    text = (component or "").strip().lower().strip("`'\" ")
    parts = [p for p in re.split(r"[/\s]+", text) if p]
    if not parts:
        return None, ""
    name = _POD_SUFFIX.sub("", parts[-1])
    return (parts[0] if len(parts) > 1 else None), name


def component_score(actual: str | None, predicted: str | None) -> float:
    """Partial credit for the component (compared after normalize_component()).

    1.0 same namespace and name, 0.5 same name with a different or missing namespace, 0.25 when one name is a
    dash-token prefix of the other (ingress-nginx vs ingress-nginx-controller), else 0.0.
    """
    a_ns, a_name = normalize_component(actual)
    p_ns, p_name = normalize_component(predicted)
    if not a_name or not p_name:
        return 0.0
    if a_name == p_name:
        return 1.0 if a_ns == p_ns else 0.5
    short, long_ = sorted((a_name, p_name), key=len)
    return 0.25 if long_.startswith(short + "-") else 0.0


def summary_rouge(actual: str | None, predicted: str | None) -> dict[str, float]:
    """ROUGE-1/2/L F-measures between the reference and predicted summaries (0.0 when either is empty)."""
    if not (actual or "").strip() or not (predicted or "").strip():
        return {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    scores = _scorer().score(actual or "", predicted or "")
    return {name: float(s.fmeasure) for name, s in scores.items()}


def _same(a: Any, b: Any) -> float:
    return 1.0 if a is not None and str(a).strip().lower() == str(b).strip().lower() else 0.0


def score_sample(actual: Mapping[str, Any], predicted: Mapping[str, Any] | None, *,
                 weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> dict[str, float]:
    """Score one prediction against its labels.

    Args:
        actual: the five label fields of the sample.
        predicted: the five predicted fields (missing ones score 0), or None for a failed sample.
        weights: composite weights by score name; normalized to sum to 1.

    Returns:
        {"root_cause", "severity", "component", "action", "summary", "composite"}, each in [0, 1].
    """
    if predicted is None:
        return {name: 0.0 for name in (*DEFAULT_WEIGHTS, "composite")}
    scores = {
        "root_cause": _same(predicted.get("root_cause"), actual.get("root_cause")),
        "severity": _same(predicted.get("severity"), actual.get("severity")),
        "component": component_score(actual.get("component"), predicted.get("component")),
        "action": _same(predicted.get("action_needed"), actual.get("action_needed")),
        "summary": summary_rouge(actual.get("summary"), predicted.get("summary"))["rougeL"],
    }
    total = sum(weights.values()) or 1.0
    scores["composite"] = sum(w * scores.get(name, 0.0) for name, w in weights.items()) / total
    return scores


def composite_metric(weights: Mapping[str, float] = DEFAULT_WEIGHTS, threshold: float | None = None, *,
                     must_be_right: Sequence[str] = ()) -> Callable[[Any, Any, object | None], float | bool]:
    """Build the DSPy metric: the composite score, or the bootstrap pass rule while bootstrapping demos.

    A demo passes when every score named in MUST_BE_RIGHT is 1.0 (e.g. root cause and severity) and, if given,
    the composite reaches THRESHOLD.

    Example:
        >>> metric = composite_metric(must_be_right=("root_cause", "severity"))
        >>> dspy.BootstrapFewShot(metric=metric)
    """
    def composite(example: Any, pred: Any, trace: object | None = None) -> float | bool:
        actual = {f: getattr(example, f, None) for f in LABEL_FIELDS}
        predicted = {f: getattr(pred, f, None) for f in LABEL_FIELDS}
        scores = score_sample(actual, predicted, weights=weights)
        if trace is None:  # evaluation: a graded score
            return scores["composite"]
        right = all(scores[name] == 1.0 for name in must_be_right)  # bootstrapping: keep demos that are right
        return right and (threshold is None or scores["composite"] >= threshold)

    return composite


