"""Per-sample scores, the DSPy composite metric, and the aggregate metrics.json of a run.

scikit-learn and rouge-score are imported here and nowhere else. Every aggregate is a pure function of the
run's records (one dict per results.jsonl line); a failed sample (``predicted`` is null) counts as wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from rouge_score import rouge_scorer
from sklearn.metrics import classification_report, f1_score

from dspy_logeval.core.config import DEFAULT_WEIGHTS
from dspy_logeval.core.errors import RunError
from dspy_logeval.runs.signals import is_hallucination, is_missed_log

LABEL_FIELDS = ("root_cause", "severity", "component", "summary", "action_needed")
SEVERITIES = ("info", "warn", "error", "critical")
NO_PREDICTION = "<none>"

CI_KEYS = {
    "accuracy.root_cause_exact_match": "root_cause",
    "accuracy.severity_classification": "severity",
    "accuracy.action": "action",
    "composite": "composite",
}
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


def composite_metric(weights: Mapping[str, float] = DEFAULT_WEIGHTS, threshold: float = 0.7
                     ) -> Callable[[Any, Any, object | None], float | bool]:
    """Build the DSPy metric: the composite score, or ``composite >= threshold`` while bootstrapping demos.

    Example:
        >>> metric = composite_metric(threshold=0.9)
        >>> dspy.BootstrapFewShot(metric=metric)
    """
    def composite(example: Any, pred: Any, trace: object | None = None) -> float | bool:
        actual = {f: getattr(example, f, None) for f in LABEL_FIELDS}
        predicted = {f: getattr(pred, f, None) for f in LABEL_FIELDS}
        score = score_sample(actual, predicted, weights=weights)["composite"]
        if trace is None:  # evaluation: a graded score
            return score
        return score >= threshold  # bootstrapping: keep only demos that are clearly right

    return composite


def _predicted(record: Mapping[str, Any], field: str) -> str:
    pred = record.get("predicted")
    value = pred.get(field) if pred else None
    return str(value) if value is not None else NO_PREDICTION


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def severity_confusion(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """severity_confusion: rows are true severities, columns predicted; failed samples in ``failed``."""
    index = {label: i for i, label in enumerate(SEVERITIES)}
    matrix = [[0] * len(SEVERITIES) for _ in SEVERITIES]
    failed = [0] * len(SEVERITIES)
    for r in records:
        row = index.get(str(r["actual"].get("severity")))
        col = index.get(_predicted(r, "severity"))
        if row is None:
            continue
        if col is None:
            failed[row] += 1
        else:
            matrix[row][col] += 1
    return {"labels": list(SEVERITIES), "matrix": matrix, "failed": failed}


def _severity_metrics(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    y_true = [str(r["actual"].get("severity")) for r in records]
    y_pred = [_predicted(r, "severity") for r in records]
    # Macro F1 over the severities that occur (true or predicted): absent labels would add a meaningless 0.
    present = [s for s in SEVERITIES if s in y_true or s in y_pred]
    macro = f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0) if present else 0.0
    report = classification_report(y_true, y_pred, labels=list(SEVERITIES), output_dict=True, zero_division=0)
    return {"macro_f1": float(macro), "report": report}


def component_detection(records: Sequence[Mapping[str, Any]]) -> float:
    """accuracy.component_detection: weighted F1 over normalized component names; failed samples are wrong."""
    y_true = [normalize_component(r["actual"].get("component"))[1] for r in records]
    y_pred = [normalize_component(_predicted(r, "component"))[1] if r.get("predicted") else NO_PREDICTION
              for r in records]
    return float(f1_score(y_true, y_pred, average="weighted", zero_division=0))


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else 0.0


def performance(records: Sequence[Mapping[str, Any]], *,
                price_per_1k_tokens: float = 0.0) -> dict[str, float]:
    """performance.*: latency mean and percentiles, token totals and averages, cost."""
    latency = [float(r.get("latency_ms") or 0.0) for r in records]
    totals = {k: int(sum(int(r.get(f"{k}_tokens") or 0) for r in records))
              for k in ("prompt", "completion", "cached")}
    total = totals["prompt"] + totals["completion"]
    n = len(records) or 1
    return {
        "avg_latency_ms": _mean(latency), "p50_latency_ms": _percentile(latency, 50),
        "p95_latency_ms": _percentile(latency, 95), "p99_latency_ms": _percentile(latency, 99),
        "prompt_tokens": totals["prompt"], "completion_tokens": totals["completion"],
        "cached_tokens": totals["cached"], "total_tokens": total,
        "avg_prompt_tokens": totals["prompt"] / n, "avg_completion_tokens": totals["completion"] / n,
        "avg_total_tokens": total / n, "cost_usd": total / 1000.0 * price_per_1k_tokens,
    }


def breakdown(records: Sequence[Mapping[str, Any]], scores: Sequence[Mapping[str, float]], key: str
              ) -> dict[str, dict[str, float]]:
    """per_<key>: {value: {n, root_cause_accuracy, composite}} grouped by the record's KEY field."""
    groups: dict[str, list[Mapping[str, float]]] = {}
    for record, score in zip(records, scores, strict=True):
        groups.setdefault(str(record.get(key) or "unknown"), []).append(score)
    return {name: {"n": len(group), "root_cause_accuracy": _mean([s["root_cause"] for s in group]),
                   "composite": _mean([s["composite"] for s in group])}
            for name, group in sorted(groups.items())}


def bootstrap_ci(values: Sequence[float], *, seed: int = 0, n_bootstrap: int = 1000) -> list[float]:
    """95% percentile bootstrap interval [lo, hi] of the mean of VALUES, resampled with a seeded generator."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return [0.0, 0.0]
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n_bootstrap, data.size))].mean(axis=1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def _quality(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    rouge = [summary_rouge(r["actual"].get("summary"), (r.get("predicted") or {}).get("summary"))
             for r in records]
    hallucinated = [bool(r.get("predicted")) and is_hallucination(r.get("logs") or "", r["predicted"])
                    for r in records]
    missed = [is_missed_log(r.get("logs") or "", r.get("predicted"), r["actual"]) for r in records]
    return {
        "summary_rouge1": _mean([s["rouge1"] for s in rouge]),
        "summary_rouge2": _mean([s["rouge2"] for s in rouge]),
        "summary_rougeL": _mean([s["rougeL"] for s in rouge]),
        "hallucination_rate": _mean([float(h) for h in hallucinated]),
        "missed_log_rate": _mean([float(m) for m in missed]),
        "parse_failure_rate": _mean([float(r.get("error_kind") == "parse") for r in records]),
    }


def compute_metrics(records: Sequence[Mapping[str, Any]], *, weights: Mapping[str, float] = DEFAULT_WEIGHTS,
                    price_per_1k_tokens: float = 0.0, seed: int = 0,
                    n_bootstrap: int = 1000) -> dict[str, Any]:
    """The metrics.json dict of a run (see docs/metrics.md for every key).

    Raises:
        RunError: when there is no record to aggregate.
    """
    if not records:
        raise RunError("no complete sample in results.jsonl: nothing to compute metrics from")
    scores = [score_sample(r["actual"], r.get("predicted"), weights=weights) for r in records]
    column = {name: [s[name] for s in scores] for name in scores[0]}
    severity = _severity_metrics(records)
    return {
        "accuracy": {
            "root_cause_exact_match": _mean(column["root_cause"]),
            "severity_classification": _mean(column["severity"]),
            "severity_macro_f1": severity["macro_f1"],
            "component_detection": component_detection(records),
            "component_partial_credit": _mean(column["component"]),
            "action": _mean(column["action"]),
        },
        "quality": _quality(records),
        "composite": _mean(column["composite"]),
        "weights": dict(weights),
        "performance": performance(records, price_per_1k_tokens=price_per_1k_tokens),
        "severity_report": severity["report"],
        "severity_confusion": severity_confusion(records),
        **{f"per_{key}": breakdown(records, scores, key)
           for key in ("category", "namespace", "severity", "source")},
        "confidence_intervals": {key: bootstrap_ci(column[name], seed=seed, n_bootstrap=n_bootstrap)
                                 for key, name in CI_KEYS.items()},
        "n_samples": len(records),
        "n_errors": sum(1 for r in records if r.get("error") or r.get("predicted") is None),
        "error_kinds": dict(Counter(str(r.get("error_kind") or "unknown") for r in records
                                    if r.get("error") or r.get("predicted") is None)),
    }
