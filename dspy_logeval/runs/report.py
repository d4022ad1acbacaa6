"""Human-readable reports of one run: summary.md and a self-contained report.html (inline CSS, SVG and JS).

Reads only the run folder (config.json, results.jsonl) and its metrics dict.
pandas lives here, not in metrics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from dspy_logeval.runs.floors_view import floors_html, floors_markdown
from dspy_logeval.runs.folder import RunFolder, read_records
from dspy_logeval.runs.metric_keys import BY_NAME, MetricKey, Unit, metric_ci, metric_value
from dspy_logeval.runs.metric_keys import format_value as fmt
from dspy_logeval.runs.metrics import compute_metrics
from dspy_logeval.runs.record import RunRecord

CARD_KEYS = ("accuracy", "composite", "severity_accuracy", "severity_macro_f1", "component_f1", "action_accuracy",
             "rouge_l", "hallucination_rate", "missed_log_rate", "parse_failure_rate", "p50_latency_ms",
             "total_tokens", "cost_usd")
CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#1d2430;background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}.meta{color:#556;font-size:12px}
.meta code{background:#eceff3;padding:1px 4px;border-radius:3px}.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px 14px;min-width:150px}
.card .v{font-size:22px;font-weight:600}.card .l{color:#556;font-size:12px}
.card .ci{color:#889;font-size:11px}
.row{display:flex;flex-wrap:wrap;gap:24px}.panel{background:#fff;border:1px solid #dde1e7;border-radius:8px;
padding:12px}table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #dde1e7;
padding:4px 6px;text-align:left;vertical-align:top;font-size:12px}th{background:#eef1f5}
pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:11px;max-height:220px;overflow:auto}
.bad{color:#b3261e}.ok{color:#1b7f3b}input,select{padding:4px;margin:0 8px 8px 0}"""
FILTER_JS = """function filt(){const q=document.getElementById('q').value.toLowerCase(),
c=document.getElementById('cat').value;let n=0;document.querySelectorAll('#fails tbody tr').forEach(r=>{
const s=(!c||r.dataset.cat===c)&&r.textContent.toLowerCase().includes(q);r.style.display=s?'':'none';
if(s)n++;});document.getElementById('shown').textContent=n;}"""


def failures_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per sample whose root cause is wrong or that failed."""
    rows = [{"sample_id": r.get("sample_id"), "category": r.get("category"),
             "expected": (r.get("actual") or {}).get("root_cause"),
             "predicted": r.get("predicted_root_cause") or "(failed)", "error": r.get("error")}
            for r in records if not r.get("is_correct")]
    return pd.DataFrame(rows, columns=["sample_id", "category", "expected", "predicted", "error"])


def _card_label(key: MetricKey) -> str:
    return "p50 / p95 latency" if key.name == "p50_latency_ms" else key.label[:1].upper() + key.label[1:]


def _results_table(metrics: Mapping[str, Any]) -> list[str]:
    lines = ["| metric | value | 95% CI |", "|---|---|---|"]
    for key in (BY_NAME[name] for name in CARD_KEYS):
        ci = metric_ci(metrics, key.path) if key.ci else None
        ci_text = f"{fmt(ci[0], key.unit)} – {fmt(ci[1], key.unit)}" if ci else ""
        lines.append(f"| {_card_label(key)} | {_card_value(metrics, key)} | {ci_text} |")
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
    header = [f"# {run.run_id}", "", f"- dataset: {_dataset_text(config)}", f"- model: {_model_text(config)}",
              f"- samples: {metrics.get('n_samples')} ({metrics.get('n_errors')} failed)", "",
              "## Results", ""]
    rows = [r.to_json() for r in run.records()]
    body = ["", "## Top failures by category", "", *_failure_sections(failures_frame(rows))]
    path = run.path / "summary.md"
    text = header + _results_table(metrics) + floors_markdown(metrics) + body
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def _dataset_text(config: RunRecord) -> str:
    ds = config.dataset
    return f"{ds.version} ({ds.split}, sha256 {str(ds.sha256)[:12]})"


def _model_text(config: RunRecord) -> str:
    model = config.config.model
    return f"{model.name} ({model.file or model.endpoint}, sha256 {str(config.model_sha256)[:12]})"


def svg_hbars(items: Sequence[tuple[str, float]], *, width: int = 460, max_value: float = 1.0,
              kind: Unit = "pct") -> str:
    """Horizontal bars (label, value) as inline SVG."""
    row, label_w = 22, 150
    bars = []
    for i, (label, value) in enumerate(items):
        w = (width - label_w - 60) * (value / max_value if max_value else 0)
        y = i * row
        bars.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
                    f"{escape(label)}</text>"
                    f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="14" fill="#4c78a8"/>'
                    f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="11">{fmt(value, kind)}</text>')
    return f'<svg width="{width}" height="{row * len(items) + 4}" role="img">{"".join(bars)}</svg>'


def svg_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """A confusion matrix heatmap (rows true, columns predicted) as inline SVG."""
    cell, off = 56, 70
    peak = max((v for r in matrix for v in r), default=0) or 1
    parts = [f'<text x="{off + i * cell + cell / 2}" y="14" text-anchor="middle" font-size="11">'
             f'{escape(lab)}</text><text x="{off - 6}" y="{22 + i * cell + cell / 2}" text-anchor="end" '
             f'font-size="11">{escape(lab)}</text>' for i, lab in enumerate(labels)]
    for i, r in enumerate(matrix):
        for j, v in enumerate(r):
            shade = int(245 - 180 * v / peak)
            x, y = off + j * cell, 20 + i * cell
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                         f'fill="rgb({shade},{min(shade + 5, 250)},255)"/><text x="{x + 27}" y="{y + 32}" '
                         f'text-anchor="middle" font-size="13">{v}</text>')
    size = off + cell * len(labels)
    return f'<svg width="{size}" height="{size - off + 30}" role="img">{"".join(parts)}</svg>'


def svg_histogram(values: Sequence[float], *, bins: int = 12, width: int = 460, height: int = 180) -> str:
    """A histogram of VALUES (e.g. latency in ms) as inline SVG."""
    if not values:
        return "<p>no latency recorded</p>"
    counts, edges = pd.cut(pd.Series(values), bins=min(bins, max(1, len(set(values)))), retbins=True)
    freq = counts.value_counts(sort=False).tolist()
    peak, bar_w = max(freq) or 1, (width - 40) / len(freq)
    parts = [f'<rect x="{30 + i * bar_w:.1f}" y="{height - 20 - (height - 40) * n / peak:.1f}" '
             f'width="{bar_w - 2:.1f}" height="{(height - 40) * n / peak:.1f}" fill="#f58518">'
             f"<title>{edges[i]:.0f}–{edges[i + 1]:.0f} ms: {n}</title></rect>" for i, n in enumerate(freq)]
    parts.append(f'<text x="30" y="{height - 4}" font-size="11">{edges[0]:.0f} ms</text>'
                 f'<text x="{width - 10}" y="{height - 4}" text-anchor="end" font-size="11">'
                 f"{edges[-1]:.0f} ms</text>")
    return f'<svg width="{width}" height="{height}" role="img">{"".join(parts)}</svg>'


def _card_value(metrics: Mapping[str, Any], key: MetricKey) -> str:
    value = fmt(metric_value(metrics, key.path), key.unit)
    if key.name == "p50_latency_ms":
        value += " / " + fmt(metric_value(metrics, "performance.p95_latency_ms"), key.unit)
    return value


def _cards_html(metrics: Mapping[str, Any]) -> str:
    cards = []
    for key in (BY_NAME[name] for name in CARD_KEYS):
        label = _card_label(key)
        ci = metric_ci(metrics, key.path) if key.ci else None
        ci_html = f'<div class="ci">95% CI {fmt(ci[0], key.unit)} – {fmt(ci[1], key.unit)}</div>' if ci else ""
        cards.append(f'<div class="card"><div class="l">{escape(label)}</div>'
                     f'<div class="v">{escape(_card_value(metrics, key))}</div>{ci_html}</div>')
    return f'<div class="cards">{"".join(cards)}</div>'


def _failure_row(r: Mapping[str, Any]) -> str:
    def fields(d: Mapping[str, Any] | None) -> str:
        return escape(json.dumps(d, indent=1, ensure_ascii=False)) if d else "(no prediction)"

    return (f'<tr data-cat="{escape(str(r.get("category")))}"><td>{escape(str(r.get("sample_id")))}</td>'
            f'<td>{escape(str(r.get("category")))}</td><td><pre>{escape(str(r.get("logs") or ""))}</pre></td>'
            f'<td><pre class="ok">{fields(r.get("actual"))}</pre></td>'
            f'<td><pre class="bad">{fields(r.get("predicted"))}</pre>'
            f'{escape(str(r.get("error") or ""))}</td></tr>')


def _failures_html(records: Sequence[Mapping[str, Any]]) -> str:
    failed = [r for r in records if not r.get("is_correct")]
    cats = sorted({str(r.get("category")) for r in failed})
    options = "".join(f'<option value="{escape(c)}">{escape(c)}</option>' for c in cats)
    return (f'<input id="q" placeholder="filter text…" oninput="filt()"><select id="cat" onchange="filt()">'
            f'<option value="">all categories</option>{options}</select> '
            f'<span id="shown">{len(failed)}</span>'
            f" of {len(failed)} failures shown<table id=\"fails\"><thead><tr><th>sample</th><th>category</th>"
            '<th style="width:36%">logs</th><th style="width:24%">expected</th>'
            '<th style="width:24%">predicted</th></tr></thead><tbody>'
            + "".join(_failure_row(r) for r in failed) + "</tbody></table>")


def _header_html(run: RunFolder, config: RunRecord) -> str:
    cfg = config.config
    facts = {"experiment": cfg.experiment_id, "program": cfg.program, "prompt": cfg.prompt.template,
             "dataset": _dataset_text(config), "model": _model_text(config), "git": config.git_commit,
             "created": config.created}
    meta = " · ".join(f"{k} <code>{escape(str(v))}</code>" for k, v in facts.items())
    return f"<h1>{escape(run.run_id)}</h1><div class=\"meta\">{meta}</div>"


def render_report_html(run: RunFolder, metrics: Mapping[str, Any]) -> str:
    """The report.html text: header, metric cards, charts and the filterable failure table."""
    records = [r.to_json() for r in run.records()]
    per_cat = [(name, v["root_cause_accuracy"]) for name, v in (metrics.get("per_category") or {}).items()]
    confusion = metrics.get("severity_confusion") or {"labels": [], "matrix": []}
    latency = [float(r.get("latency_ms") or 0.0) for r in records]
    panels = (f'<div class="row"><div class="panel"><h2>Root cause accuracy by category</h2>'
              f"{svg_hbars(per_cat)}"
              f'</div><div class="panel"><h2>Severity confusion (rows true, columns predicted)</h2>'
              f'{svg_heatmap(confusion["labels"], confusion["matrix"])}</div><div class="panel"><h2>Latency '
              f"distribution</h2>{svg_histogram(latency)}</div></div>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(run.run_id)}</title>'
            f"<style>{CSS}</style><script>{FILTER_JS}</script></head><body>{_header_html(run, run.config())}"
            f"<h2>Metrics ({metrics.get('n_samples')} samples, {metrics.get('n_errors')} failed)</h2>"
            f"{_cards_html(metrics)}{floors_html(metrics)}{panels}<h2>Failures</h2>{_failures_html(records)}</body></html>\n")


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
