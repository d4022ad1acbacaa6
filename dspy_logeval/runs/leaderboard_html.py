"""leaderboard.html: one section per (dataset version, split), chosen with a <select>; runs rank only within it.

Each section: accuracy vs latency (Pareto front in red), accuracy over time per experiment, the best run per
metric and every run ranked by composite, each run id linking to its report.html (relative links, so the
artifacts folder can be copied or served as is). Self-contained: inline CSS, SVG and a few lines of JS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from dspy_logeval.runs.charts import AXIS, BLUE, GRID, RED, Scale, value_scale, x_axis, y_axis
from dspy_logeval.runs.html_style import CSS
from dspy_logeval.runs.metric_keys import format_value as fmt
from dspy_logeval.runs.ranking import (
    COLUMNS,
    KINDS,
    best_per_metric,
    group_name,
    group_rows,
    pareto_front,
    sort_rows,
)

COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d", "#ff9da6")
TABLE_COLUMNS = tuple(c for c in COLUMNS if c not in ("dataset_version", "split"))
"""The group header already says the dataset version and split."""
NO_WRAP = {"run_id", "experiment_id", "model_name", "run_timestamp", "prompt_template"}
GROUP_JS = """function grp(){const v=document.getElementById('grp').value;
document.querySelectorAll('section.group').forEach(s=>{s.style.display=s.dataset.group===v?'':'none';});}
window.addEventListener('DOMContentLoaded',grp);"""
W, H, LEFT, RIGHT, TOP, BOTTOM = 600, 340, 64, 20, 14, 56


def svg_scatter(rows: Sequence[Mapping[str, Any]]) -> str:
    """Accuracy (0-100%) vs average latency (ms, log scale across decades); the Pareto front dashed red."""
    points = [r for r in rows if r.get("avg_latency_ms") is not None and r.get("accuracy") is not None]
    if not points:
        return "<p>no scored runs</p>"
    xs = value_scale([float(r["avg_latency_ms"]) for r in points], LEFT, W - RIGHT, unit="ms")
    ys = Scale(0.0, 1.0, H - BOTTOM, TOP)
    front = pareto_front(points)
    front_ids = {r["run_id"] for r in front}
    line = " ".join(f"{xs(float(r['avg_latency_ms'])):.1f},{ys(float(r['accuracy'])):.1f}" for r in front)
    dots = "".join(
        f'<circle cx="{xs(float(r["avg_latency_ms"])):.1f}" cy="{ys(float(r["accuracy"])):.1f}" r="6" '
        f'fill="{RED if r["run_id"] in front_ids else BLUE}" fill-opacity="0.85"><title>{escape(str(r["run_id"]))}: '
        f"{fmt(r['accuracy'], 'pct')}, {fmt(r['avg_latency_ms'], 'ms')}</title></circle>" for r in points)
    scale_note = " (log scale)" if xs.log else ""
    axes = (y_axis(ys, x=LEFT, right=W - RIGHT, unit="pct", label="root cause accuracy")
            + x_axis(xs, y=H - BOTTOM, top=TOP, unit="ms", label=f"average latency per sample{scale_note}"))
    return (f'<svg width="{W}" height="{H}" role="img">{axes}<polyline points="{line}" fill="none" '
            f'stroke="{RED}" stroke-dasharray="4 3"/>{dots}</svg>')


def _time(row: Mapping[str, Any]) -> float:
    try:
        return datetime.fromisoformat(str(row["run_timestamp"])).timestamp()
    except (KeyError, ValueError):
        return 0.0


def _time_axis(scale: Scale, *, y: float, top: float) -> str:
    """Five evenly spaced date ticks (MM-DD HH:MM, UTC) under a time scale."""
    parts = [f'<line x1="{scale.out_lo}" y1="{y}" x2="{scale.out_hi}" y2="{y}" stroke="{AXIS}"/>']
    stamps = [scale.lo + (scale.hi - scale.lo) * i / 4 for i in range(5)] if scale.hi > scale.lo else [scale.lo]
    for t in stamps:
        x, text = scale(t), datetime.fromtimestamp(t, timezone.utc).strftime("%m-%d %H:%M")
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{y}" stroke="{GRID}"/>'
                     f'<text x="{x:.1f}" y="{y + 15}" font-size="10" text-anchor="middle" fill="{AXIS}">{text}</text>')
    mid = (scale.out_lo + scale.out_hi) / 2
    title = f'<text x="{mid:.1f}" y="{y + 30}" font-size="11" text-anchor="middle">run time (UTC)</text>'
    return "".join(parts) + title


def svg_over_time(rows: Sequence[Mapping[str, Any]]) -> str:
    """Root cause accuracy of each experiment's runs over time, one colored line per experiment."""
    points = sorted((r for r in rows if r.get("accuracy") is not None), key=_time)
    if not points:
        return "<p>no scored runs</p>"
    times = [_time(r) for r in points]
    pad = max((max(times) - min(times)) * 0.04, 60.0)
    xs, ys = Scale(min(times) - pad, max(times) + pad, LEFT, W - RIGHT - 150), Scale(0.0, 1.0, H - BOTTOM, TOP)
    parts = [y_axis(ys, x=LEFT, right=W - RIGHT - 150, unit="pct", label="root cause accuracy"),
             _time_axis(xs, y=H - BOTTOM, top=TOP)]
    for k, exp in enumerate(sorted({str(r["experiment_id"]) for r in points})):
        color = COLORS[k % len(COLORS)]
        pts = [(xs(_time(r)), ys(float(r["accuracy"])), r) for r in points if str(r["experiment_id"]) == exp]
        parts.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b, _ in pts)}" fill="none" '
                     f'stroke="{color}" stroke-width="2"/>'
                     + "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{color}"><title>'
                               f"{escape(str(r['run_id']))}: {fmt(r['accuracy'], 'pct')}</title></circle>"
                               for a, b, r in pts)
                     + f'<text x="{W - RIGHT - 140}" y="{TOP + 10 + 14 * k}" font-size="11" fill="{color}">'
                     f"{escape(exp)}</text>")
    return f'<svg width="{W}" height="{H}" role="img">{"".join(parts)}</svg>'


def _cell(row: Mapping[str, Any], column: str, links: Path | None) -> str:
    value = row.get(column)
    if column in KINDS:
        return f'<td class="num">{escape(fmt(value, KINDS[column]))}</td>'
    text = "" if value is None else str(value)
    if column == "run_timestamp":
        text = text[:16].replace("T", " ")
    if column == "run_id" and links is not None:
        href = (links / text / "report.html").as_posix()
        return f'<td class="id"><a href="{escape(href)}">{escape(text)}</a></td>'
    return f'<td class="id">{escape(text)}</td>' if column in NO_WRAP else f"<td>{escape(text)}</td>"


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], links: Path | None, *,
           rank: bool = False) -> str:
    head = ("<th>rank</th>" if rank else "") + "".join(
        f'<th class="{"num" if c in KINDS else ""}">{escape(c)}</th>' for c in columns)
    body = "".join("<tr>" + (f'<td class="num">{i}</td>' if rank else "")
                   + "".join(_cell(r, c, links) for c in columns) + "</tr>" for i, r in enumerate(rows, start=1))
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _section(name: str, rows: Sequence[Mapping[str, Any]], links: Path | None) -> str:
    best = best_per_metric(rows)
    return (f'<section class="group" data-group="{escape(name)}"><h2>{escape(name)}: {len(rows)} runs</h2>'
            f'<div class="row"><div class="panel"><h3>Accuracy vs latency (red: Pareto front)</h3>'
            f'{svg_scatter(rows)}</div><div class="panel"><h3>Accuracy over time per experiment</h3>'
            f"{svg_over_time(rows)}</div></div><h3>Best config per metric</h3>"
            f"{_table(best, ('metric', 'value', 'run_id', 'experiment_id', 'model_name', 'program'), links)}"
            f"<h3>All runs on {escape(name)}, best composite first</h3>"
            f"{_table(sort_rows(rows, 'composite'), TABLE_COLUMNS, links, rank=True)}</section>")


def render_leaderboard_html(rows: Sequence[Mapping[str, Any]], *, links: Path | None = None) -> str:
    """The leaderboard.html text; LINKS is the runs folder relative to the page (None: no links)."""
    groups = group_rows(rows)
    options = "".join(f'<option value="{escape(group_name(g))}">{escape(group_name(g))} ({len(m)} runs)</option>'
                      for g, m in groups.items())
    sections = "".join(_section(group_name(g), members, links) for g, members in groups.items())
    picker = (f'<label>dataset version / split: <select id="grp" onchange="grp()">{options}</select></label>'
              '<div class="note">Runs are ranked only against runs on the same dataset version and split.</div>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Leaderboard</title>'
            f"<style>{CSS}</style><script>{GROUP_JS}</script></head><body><h1>Leaderboard</h1>"
            f'<div class="meta">{len(rows)} runs in {len(groups)} dataset version / split groups</div>'
            f"{picker if groups else '<p>no scored runs yet</p>'}{sections}</body></html>\n")


def write_leaderboard_html(rows: Sequence[Mapping[str, Any]], path: Path, *, runs_dir: Path | None = None) -> Path:
    """Write leaderboard.html at PATH (through a temporary file); run ids link into RUNS_DIR (default: the runs
    folder beside PATH)."""
    runs = runs_dir if runs_dir is not None else path.parent / "runs"
    links = Path(os.path.relpath(runs.resolve(), path.parent.resolve()))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(render_leaderboard_html(rows, links=links), encoding="utf-8")
    os.replace(tmp, path)
    return path
