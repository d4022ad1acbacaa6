"""Human-readable reports of one run: summary.md here, report.html by report_html; rescoring a run folder.

Reads only the run folder (config.json, results.jsonl, prompts.jsonl) and its metrics dict.
pandas lives here, not in metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dspy_logeval.runs.floors_view import floors_markdown
from dspy_logeval.runs.folder import RunFolder, read_records
from dspy_logeval.runs.label_views import concentration_note
from dspy_logeval.runs.metric_keys import BY_NAME, metric_ci
from dspy_logeval.runs.metric_keys import format_value as fmt
from dspy_logeval.runs.metrics import compute_metrics
from dspy_logeval.runs.report_html import (
    CARD_KEYS,
    card_label,
    card_value,
    dataset_text,
    model_text,
    render_report_html,
)


def failures_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per sample whose root cause is wrong or that failed."""
    rows = [{"sample_id": r.get("sample_id"), "category": r.get("category"),
             "expected": (r.get("actual") or {}).get("root_cause"),
             "predicted": r.get("predicted_root_cause") or "(failed)", "error": r.get("error")}
            for r in records if not r.get("is_correct")]
    return pd.DataFrame(rows, columns=["sample_id", "category", "expected", "predicted", "error"])


def _results_table(metrics: Mapping[str, Any]) -> list[str]:
    lines = ["| metric | value | 95% CI |", "|---|---|---|"]
    for key in (BY_NAME[name] for name in CARD_KEYS):
        ci = metric_ci(metrics, key.path) if key.ci else None
        ci_text = f"{fmt(ci[0], key.unit)} – {fmt(ci[1], key.unit)}" if ci else ""
        lines.append(f"| {card_label(key)} | {card_value(metrics, key)} | {ci_text} |")
    return lines


def _failure_sections(frame: pd.DataFrame, *, top: int = 10) -> list[str]:
    if frame.empty:
        return ["No failures: every root cause is right."]
    lines = ["| category | failures |", "|---|---|"]
    lines += [f"| {cat} | {n} |" for cat, n in frame["category"].value_counts().head(top).items()]
    pairs = frame.groupby(["category", "expected", "predicted"]).size().sort_values(ascending=False).head(top)
    lines += ["", "| category | expected | predicted | count |", "|---|---|---|---|"]
    lines += [f"| {c} | {e} | {p} | {n} |" for (c, e, p), n in pairs.items()]
    return lines


def write_summary(run: RunFolder, metrics: Mapping[str, Any]) -> Path:
    """Write summary.md: the results table, then the top failures by category with counts."""
    config = run.config()
    header = [f"# {run.run_id}", "", f"- dataset: {dataset_text(config)}", f"- model: {model_text(config)}",
              f"- samples: {metrics.get('n_samples')} ({metrics.get('n_errors')} failed)", "",
              "## Results", ""]
    rows = [r.to_json() for r in run.records()]
    body = ["", "## Top failures by category", "", *_failure_sections(failures_frame(rows)), "",
            f"Predictions: {concentration_note(rows)}"]
    path = run.path / "summary.md"
    text = header + _results_table(metrics) + floors_markdown(metrics) + body
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def write_report_html(run: RunFolder, metrics: Mapping[str, Any]) -> Path:
    """Write the self-contained report.html (no network: inline CSS, SVG and JS) and return its path."""
    path = run.path / "report.html"
    path.write_text(render_report_html(run, metrics), encoding="utf-8")
    return path


def rescore_run(run: RunFolder) -> tuple[dict[str, Any], int]:
    """Recompute metrics.json, summary.md and report.html from results.jsonl with the run's frozen settings.

    Returns:
        (metrics, number of unreadable results.jsonl lines, e.g. a truncated last line).

    Raises:
        RunError: no results.jsonl, or no complete sample in it.
    """
    config = run.config()
    records, lost = read_records(run.path)
    settings = config.config.metrics
    metrics = compute_metrics([r.to_json() for r in records], weights=settings.weights,
                              price_per_1k_tokens=settings.price_per_1k_tokens, seed=config.seed or 0)
    run.write_metrics(metrics)
    write_summary(run, metrics)
    write_report_html(run, metrics)
    return metrics, lost
