"""The one table of metrics.json keys: where each number lives, what it is called, its unit and direction.

Report cards, the CLI tables, leaderboard rows, the Prometheus exposition, prompt-artifact provenance, parity
and the optimize headline all derive from METRICS; nothing else knows the layout of metrics.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Unit = Literal["pct", "num", "ms", "int", "usd", "pts", "delta"]


@dataclass(frozen=True)
class MetricKey:
    """One number of metrics.json."""

    name: str
    """Short name: the leaderboard column and the `--sort` / `--min` / `--max` key."""
    path: str
    """Dotted path in metrics.json (e.g. accuracy.root_cause_exact_match)."""
    label: str
    """What a person reads in tables and reports."""
    unit: Unit
    higher_is_better: bool = True
    ci: bool = False
    """Whether metrics.json holds a bootstrap CI for it under confidence_intervals[path]."""
    prometheus: str | None = None
    """Gauge name in the Prometheus exposition (None: not exported)."""
    headline: bool = False
    """Carried in prompt artifacts and compared by parity and optimize."""

    @property
    def leaf(self) -> str:
        """The last part of the path: the key a prompt artifact's test_metrics uses."""
        return self.path.rsplit(".", 1)[-1]


METRICS: tuple[MetricKey, ...] = (
    MetricKey("accuracy", "accuracy.root_cause_exact_match", "root cause exact match", "pct", ci=True,
              prometheus="logeval_accuracy_ratio", headline=True),
    MetricKey("composite", "composite", "composite", "num", ci=True, prometheus="logeval_composite_score",
              headline=True),
    MetricKey("severity_accuracy", "accuracy.severity_classification", "severity accuracy", "pct", ci=True,
              prometheus="logeval_severity_accuracy_ratio", headline=True),
    MetricKey("severity_macro_f1", "accuracy.severity_macro_f1", "severity macro-F1", "num"),
    MetricKey("component_f1", "accuracy.component_detection", "component F1 (weighted)", "pct",
              prometheus="logeval_component_f1_score", headline=True),
    MetricKey("action_accuracy", "accuracy.action", "action accuracy", "pct", ci=True,
              prometheus="logeval_action_accuracy_ratio", headline=True),
    MetricKey("rouge_l", "quality.summary_rougeL", "summary ROUGE-L", "num", prometheus="logeval_rouge_l_score"),
    MetricKey("hallucination_rate", "quality.hallucination_rate", "hallucination rate", "pct",
              higher_is_better=False, prometheus="logeval_hallucination_ratio"),
    MetricKey("missed_log_rate", "quality.missed_log_rate", "missed-log rate", "pct", higher_is_better=False,
              prometheus="logeval_missed_log_ratio"),
    MetricKey("parse_failure_rate", "quality.parse_failure_rate", "parse failure rate", "pct",
              higher_is_better=False, prometheus="logeval_parse_failure_ratio", headline=True),
    MetricKey("avg_latency_ms", "performance.avg_latency_ms", "latency avg (ms)", "ms", higher_is_better=False),
    MetricKey("p50_latency_ms", "performance.p50_latency_ms", "latency p50 (ms)", "ms", higher_is_better=False),
    MetricKey("p95_latency_ms", "performance.p95_latency_ms", "latency p95 (ms)", "ms", higher_is_better=False),
    MetricKey("p99_latency_ms", "performance.p99_latency_ms", "latency p99 (ms)", "ms", higher_is_better=False),
    MetricKey("total_tokens", "performance.total_tokens", "total tokens", "int", higher_is_better=False),
    MetricKey("cost_usd", "performance.cost_usd", "cost (USD)", "usd", higher_is_better=False,
              prometheus="logeval_cost_usd"),
    MetricKey("best_floor_accuracy", "lift_over_floor.root_cause_exact_match.floor_value",
              "best no-LLM floor: root cause", "pct", prometheus="logeval_floor_accuracy_ratio"),
    MetricKey("lift_accuracy", "lift_over_floor.root_cause_exact_match.lift", "lift over best floor: root cause",
              "pts", ci=True, prometheus="logeval_lift_accuracy_ratio"),
    MetricKey("lift_severity", "lift_over_floor.severity_classification.lift", "lift over best floor: severity",
              "pts", ci=True),
    MetricKey("lift_action", "lift_over_floor.action.lift", "lift over best floor: action", "pts", ci=True),
    MetricKey("best_floor_composite", "lift_over_floor.composite.floor_value", "best no-LLM floor: composite",
              "num"),
    MetricKey("lift_composite", "lift_over_floor.composite.lift", "lift over best floor: composite", "delta",
              ci=True, prometheus="logeval_lift_composite_score"),
    MetricKey("n_samples", "n_samples", "samples", "int", prometheus="logeval_samples", headline=True),
    MetricKey("n_errors", "n_errors", "errors", "int", higher_is_better=False, prometheus="logeval_errors"),
)
BY_NAME: dict[str, MetricKey] = {m.name: m for m in METRICS}
BY_PATH: dict[str, MetricKey] = {m.path: m for m in METRICS}
SORTABLE: tuple[str, ...] = tuple(m.name for m in METRICS)
HEADLINE: tuple[MetricKey, ...] = tuple(m for m in METRICS if m.headline)


def metric_value(metrics: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted PATH of a metrics.json dict, or None where any part is missing."""
    value: Any = metrics
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def metric_ci(metrics: Mapping[str, Any], path: str) -> list[float] | None:
    """The 95% bootstrap CI recorded for PATH, if any."""
    ci = (metrics.get("confidence_intervals") or {}).get(path)
    return list(ci) if isinstance(ci, (list, tuple)) and len(ci) == 2 else None


def metric_key(name: str) -> MetricKey:
    """A MetricKey by short name or dotted path; ValueError listing the names otherwise."""
    key = BY_NAME.get(name) or BY_PATH.get(name)
    if key is None:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(SORTABLE)}")
    return key


def format_value(value: Any, unit: Unit = "num") -> str:
    """A metric value as text in its unit: 12.3%, 0.123, 4512 ms, 1,234, $0.0012; an en dash when absent."""
    if value is None:
        return "–"
    if unit == "pts":  # a difference of two shares, in percentage points
        return f"{float(value) * 100:+.1f} pts"
    formats = {"pct": "{:.1%}", "num": "{:.3f}", "ms": "{:.0f} ms", "int": "{:,.0f}", "usd": "${:.4f}",
               "delta": "{:+.3f}"}
    return formats[unit].format(float(value))
