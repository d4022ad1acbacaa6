"""report.html: one self-contained page per run (inline CSS, SVG and a few lines of JS; nothing fetched).

Header and metric cards, the no-LLM floors, per-category accuracy, severity confusion and latency charts, the
root-cause confusion and predicted-label distributions, then failures and every sample with its prompt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from dspy_logeval.runs.charts import svg_hbars, svg_heatmap, svg_histogram
from dspy_logeval.runs.floors_view import floors_html
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.html_style import CSS
from dspy_logeval.runs.label_views import confusion_html, distribution_html
from dspy_logeval.runs.metric_keys import BY_NAME, MetricKey, metric_ci, metric_value
from dspy_logeval.runs.metric_keys import format_value as fmt
from dspy_logeval.runs.record import RunRecord
from dspy_logeval.runs.report_samples import SAMPLES_JS, failures_html, prompt_data, samples_html

CARD_KEYS = ("accuracy", "composite", "severity_accuracy", "severity_macro_f1", "component_f1", "action_accuracy",
             "rouge_l", "hallucination_rate", "missed_log_rate", "parse_failure_rate", "p50_latency_ms",
             "total_tokens", "cost_usd")


def card_label(key: MetricKey) -> str:
    return "p50 / p95 latency" if key.name == "p50_latency_ms" else key.label[:1].upper() + key.label[1:]


def card_value(metrics: Mapping[str, Any], key: MetricKey) -> str:
    value = fmt(metric_value(metrics, key.path), key.unit)
    if key.name == "p50_latency_ms":
        value += " / " + fmt(metric_value(metrics, "performance.p95_latency_ms"), key.unit)
    return value


def dataset_text(config: RunRecord) -> str:
    ds = config.dataset
    return f"{ds.version} ({ds.split}, sha256 {str(ds.sha256)[:12]})"


def model_text(config: RunRecord) -> str:
    model = config.config.model
    return f"{model.name} ({model.file or model.endpoint}, sha256 {str(config.model_sha256)[:12]})"


def _cards_html(metrics: Mapping[str, Any]) -> str:
    cards = []
    for key in (BY_NAME[name] for name in CARD_KEYS):
        ci = metric_ci(metrics, key.path) if key.ci else None
        ci_html = f'<div class="ci">95% CI {fmt(ci[0], key.unit)} – {fmt(ci[1], key.unit)}</div>' if ci else ""
        cards.append(f'<div class="card"><div class="l">{escape(card_label(key))}</div>'
                     f'<div class="v">{escape(card_value(metrics, key))}</div>{ci_html}</div>')
    return f'<div class="cards">{"".join(cards)}</div>'


def _header_html(run: RunFolder, config: RunRecord) -> str:
    cfg = config.config
    facts = {"experiment": cfg.experiment_id, "program": cfg.program, "prompt": cfg.prompt.template,
             "analyzer": config.analyzer, "dataset": dataset_text(config), "model": model_text(config),
             "git": config.git_commit, "created": config.created}
    meta = " · ".join(f"{k} <code>{escape(str(v))}</code>" for k, v in facts.items())
    return f"<h1>{escape(run.run_id)}</h1><div class=\"meta\">{meta}</div>"


def _charts_html(metrics: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
    per_cat = sorted(((name, float(v["root_cause_accuracy"])) for name, v in
                      (metrics.get("per_category") or {}).items()), key=lambda item: -item[1])
    severity = metrics.get("severity_confusion") or {"labels": [], "matrix": []}
    latency = [float(r.get("latency_ms") or 0.0) for r in records]
    return ('<div class="row"><div class="panel"><h2>Root cause accuracy by category</h2>'
            f'{svg_hbars(per_cat, axis_label="root cause exact match")}</div>'
            '<div class="panel"><h2>Severity confusion (rows true, columns predicted)</h2>'
            f'{svg_heatmap(severity["labels"], severity["labels"], severity["matrix"], label_w=70, head=60, cell=48)}'
            "</div>"
            f'<div class="panel"><h2>Latency distribution</h2>{svg_histogram(latency)}</div></div>')


def render_report_html(run: RunFolder, metrics: Mapping[str, Any]) -> str:
    """The report.html text of RUN with its METRICS."""
    records = [r.to_json() for r in run.records()]
    body = (f"{_header_html(run, run.config())}"
            f"<h2>Metrics ({metrics.get('n_samples')} samples, {metrics.get('n_errors')} failed)</h2>"
            f"{_cards_html(metrics)}{floors_html(metrics)}{_charts_html(metrics, records)}"
            f"{confusion_html(records)}{distribution_html(records)}"
            f"<h2>Failures</h2>{failures_html(records)}<h2>Samples</h2>{samples_html(records)}"
            f"{prompt_data(records, run.prompt_store)}")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(run.run_id)}</title>'
            f"<style>{CSS}</style><script>{SAMPLES_JS}</script></head><body>{body}</body></html>\n")
