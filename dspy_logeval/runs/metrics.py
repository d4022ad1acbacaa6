"""The aggregate metrics.json of a run, the no-LLM floors on the same samples, and the lift over them.

Every aggregate is a pure function of the run's records (one dict per results.jsonl line); a failed sample
(``predicted`` is null) counts as wrong. Per-sample scores are in runs/scoring.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import classification_report, f1_score

from dspy_logeval.core.config import DEFAULT_WEIGHTS
from dspy_logeval.core.errors import RunError
from dspy_logeval.data.dataset import Dataset
from dspy_logeval.data.floors import FLOOR_NAMES, fit_floors, floor_pool
from dspy_logeval.runs.scoring import NO_PREDICTION, normalize_component, score_sample, summary_rouge
from dspy_logeval.runs.signals import is_hallucination, is_missed_log

SEVERITIES = ("info", "warn", "error", "critical")

CI_KEYS = {
    "accuracy.root_cause_exact_match": "root_cause",
    "accuracy.severity_classification": "severity",
    "accuracy.action": "action",
    "composite": "composite",
}
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
        # the share of prompt tokens the server took from its prefix cache (a compiled program's static demos)
        "cached_prompt_share": totals["cached"] / totals["prompt"] if totals["prompt"] else 0.0,
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


# lift_over_floor key → the per-sample score it averages (each with a paired CI; component F1 is not a mean)
LIFT_SCORES = {"root_cause_exact_match": "root_cause", "severity_classification": "severity", "action": "action",
               "composite": "composite"}


def floor_metrics(records: Sequence[Mapping[str, Any]], scores: Sequence[Mapping[str, float]], *,
                  weights: Mapping[str, float], seed: int = 0, n_bootstrap: int = 1000) -> dict[str, Any]:
    """floors.<name>.<metric> on exactly these samples, and lift_over_floor.<metric> = {floor, floor_value,
    lift, ci}: the program minus the best floor, with a paired bootstrap CI.

    Each record carries each floor's answer (`floors`, written by the runner from data/floors.py). A run with
    a record that has none (written before floors existed) gets {}: floors on a subset would mislead.
    """
    if not records or any(not r.get("floors") for r in records):
        return {}
    names = sorted(set.intersection(*(set(r["floors"]) for r in records)))
    floor_scores = {n: [score_sample(r["actual"], r["floors"][n], weights=weights) for r in records] for n in names}
    floors = {n: _floor_summary([{"actual": r["actual"], "predicted": r["floors"][n]} for r in records],
                                floor_scores[n]) for n in names}
    lift: dict[str, Any] = {}
    for k, (metric, score) in enumerate(LIFT_SCORES.items()):
        best = max(names, key=lambda n: (floors[n][metric], n))
        diff = [s[score] - f[score] for s, f in zip(scores, floor_scores[best], strict=True)]
        lift[metric] = {"floor": best, "floor_value": floors[best][metric], "lift": _mean(diff),
                        "ci": bootstrap_ci(diff, seed=seed + 101 + k, n_bootstrap=n_bootstrap)}
    return {"floors": floors, "lift_over_floor": lift}


def dataset_floors(dataset: Dataset, *, split: str = "test", weights: Mapping[str, float] = DEFAULT_WEIGHTS
                   ) -> dict[str, dict[str, float]]:
    """floors.<name>.<metric> of a dataset's SPLIT (all of it when it has no such split), fitted as a run fits
    them: what any program scored on that split has to beat."""
    samples = [s for s in dataset.samples if s.split == split] or list(dataset.samples)
    model = fit_floors(floor_pool(dataset, samples))
    if model is None or not samples:
        return {}
    records = [{"actual": s.ground_truth.model_dump(), "floors": model.predict(s)} for s in samples]
    return {name: _floor_summary([{"actual": r["actual"], "predicted": r["floors"][name]} for r in records],
                                 [score_sample(r["actual"], r["floors"][name], weights=weights) for r in records])
            for name in FLOOR_NAMES}


def _floor_summary(pairs: Sequence[Mapping[str, Any]], scores: Sequence[Mapping[str, float]]) -> dict[str, float]:
    return {"root_cause_exact_match": _mean([s["root_cause"] for s in scores]),
            "severity_classification": _mean([s["severity"] for s in scores]),
            "action": _mean([s["action"] for s in scores]),
            "component_detection": component_detection(pairs),
            "composite": _mean([s["composite"] for s in scores])}


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
    floors = floor_metrics(records, scores, weights=weights, seed=seed, n_bootstrap=n_bootstrap)
    lift_cis = {f"lift_over_floor.{m}.lift": e["ci"] for m, e in floors.get("lift_over_floor", {}).items()}
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
        **floors,
        "confidence_intervals": {**{key: bootstrap_ci(column[name], seed=seed, n_bootstrap=n_bootstrap)
                                    for key, name in CI_KEYS.items()}, **lift_cis},
        "n_samples": len(records),
        "n_errors": sum(1 for r in records if r.get("error") or r.get("predicted") is None),
        "error_kinds": dict(Counter(str(r.get("error_kind") or "unknown") for r in records
                                    if r.get("error") or r.get("predicted") is None)),
    }
