"""How leaderboard rows rank: the columns, best-first sorting, groups that may be ranked together, Pareto front.

Runs are ranked only against runs on the same dataset version and split: a 60% on golden-v1/test and a 70% on
golden-v2/dev say nothing about which program is better. Light on purpose (no pandas, no pydantic models), so
the CLI takes its --sort choices from here at import time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dspy_logeval.core.errors import RunError
from dspy_logeval.runs.metric_keys import BY_NAME
from dspy_logeval.runs.metric_keys import format_value as fmt

COLUMNS = ("experiment_id", "run_id", "run_timestamp", "model_name", "program", "prompt_template",
           "dataset_version", "split", "n_samples", "accuracy", "best_floor_accuracy", "lift_accuracy", "composite",
           "lift_composite", "severity_accuracy", "action_accuracy", "avg_latency_ms", "p95_latency_ms",
           "total_tokens", "cost_usd", "git_commit")
ROW_METRICS = ("accuracy", "best_floor_accuracy", "lift_accuracy", "composite", "lift_composite", "severity_accuracy",
               "action_accuracy", "avg_latency_ms", "p95_latency_ms", "total_tokens", "cost_usd",
               "parse_failure_rate", "hallucination_rate")
"""metric_keys names each leaderboard row carries."""
SORTABLE = (*ROW_METRICS, "run_timestamp")
LOWER_IS_BETTER = {name for name in ROW_METRICS if not BY_NAME[name].higher_is_better}
KINDS = {name: BY_NAME[name].unit for name in ROW_METRICS[:11]}
Group = tuple[str, str]
"""(dataset_version, split): the runs that may be ranked together."""


def group_of(row: Mapping[str, Any]) -> Group:
    return (str(row.get("dataset_version") or "?"), str(row.get("split") or "?"))


def group_name(group: Group) -> str:
    return f"{group[0]} / {group[1]}"


def group_rows(rows: Sequence[Mapping[str, Any]]) -> dict[Group, list[dict[str, Any]]]:
    """ROWS by (dataset version, split); the group with the newest run first."""
    groups: dict[Group, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(group_of(row), []).append(dict(row))
    newest = {g: max(str(r.get("run_timestamp") or "") for r in members) for g, members in groups.items()}
    return {g: groups[g] for g in sorted(groups, key=lambda g: newest[g], reverse=True)}


def sort_rows(rows: Sequence[Mapping[str, Any]], metric: str) -> list[dict[str, Any]]:
    """ROWS best-first by METRIC (lower is better for latency, tokens, cost, failure rates), missing last."""
    if metric not in SORTABLE:
        raise RunError(f"cannot sort by {metric!r}; choose one of: {', '.join(SORTABLE)}")
    present = [dict(r) for r in rows if r.get(metric) is not None]
    missing = [dict(r) for r in rows if r.get(metric) is None]
    return sorted(present, key=lambda r: r[metric], reverse=metric not in LOWER_IS_BETTER) + missing


def ranked(rows: Sequence[Mapping[str, Any]], metric: str) -> list[dict[str, Any]]:
    """ROWS sorted by METRIC within each (dataset version, split) group, each with its `rank` in its group."""
    out = []
    for members in group_rows(rows).values():
        out += [{**row, "rank": i} for i, row in enumerate(sort_rows(members, metric), start=1)]
    return out


def pareto_front(rows: Sequence[Mapping[str, Any]], *, x: str = "avg_latency_ms", y: str = "accuracy"
                 ) -> list[dict[str, Any]]:
    """Rows no other row beats on both Y (higher) and X (lower), sorted by X."""
    points = [dict(r) for r in rows if r.get(x) is not None and r.get(y) is not None]
    front = [p for p in points if not any(q[x] <= p[x] and q[y] >= p[y] and (q[x] < p[x] or q[y] > p[y])
                                          for q in points)]
    return sorted(front, key=lambda r: (r[x], -r[y]))


def best_per_metric(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """For each KINDS metric, the best row: {metric, value, run_id, experiment_id, model_name, program}."""
    best = []
    for metric in KINDS:
        top = sort_rows(rows, metric)
        if top and top[0].get(metric) is not None:
            best.append({"metric": metric, "value": fmt(top[0][metric], KINDS[metric]), "run_id": top[0]["run_id"],
                         "experiment_id": top[0]["experiment_id"], "model_name": top[0]["model_name"],
                         "program": top[0]["program"]})
    return best
