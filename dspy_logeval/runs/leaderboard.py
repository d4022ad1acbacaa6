"""The leaderboard: one row per scored run folder, rebuilt under a file lock, and its HTML page."""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from dspy_logeval.core.errors import LogevalError, RunError
from dspy_logeval.core.files import write_json_atomic
from dspy_logeval.runs.folder import RunFolder, list_runs
from dspy_logeval.runs.html_style import CSS
from dspy_logeval.runs.metric_keys import BY_NAME, metric_value
from dspy_logeval.runs.metric_keys import format_value as fmt
from dspy_logeval.runs.record import RUN_FORMAT_VERSION, RunRecord

log = logging.getLogger(__name__)

COLUMNS = ("experiment_id", "run_id", "run_timestamp", "model_name", "program", "prompt_template",
           "dataset_version", "split", "n_samples", "accuracy", "best_floor_accuracy", "lift_accuracy", "composite",
           "lift_composite", "severity_accuracy", "action_accuracy", "avg_latency_ms", "p95_latency_ms",
           "total_tokens", "cost_usd", "git_commit")
ROW_METRICS = ("accuracy", "best_floor_accuracy", "lift_accuracy", "composite", "lift_composite", "severity_accuracy",
               "action_accuracy", "avg_latency_ms", "p95_latency_ms", "total_tokens", "cost_usd",
               "parse_failure_rate", "hallucination_rate")
SORTABLE = (*ROW_METRICS, "run_timestamp")
LOWER_IS_BETTER = {name for name in ROW_METRICS if not BY_NAME[name].higher_is_better}
KINDS = {name: BY_NAME[name].unit for name in ROW_METRICS[:11]}


def _timestamp(run: RunFolder, config: RunRecord) -> str:
    try:
        stamp = datetime.strptime(run.run_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)
        return stamp.isoformat()
    except ValueError:
        return str(config.created or "")


def leaderboard_row(run: RunFolder) -> dict[str, Any]:
    """The leaderboard row of one run folder (config.json + metrics.json)."""
    config, metrics = run.config(), run.metrics()
    cfg, dataset = config.config, config.dataset
    return {
        "experiment_id": cfg.experiment_id, "run_id": run.run_id, "run_timestamp": _timestamp(run, config),
        "model_name": cfg.model.name, "program": cfg.program, "prompt_template": cfg.prompt.template,
        "dataset_version": dataset.version, "split": dataset.split, "n_samples": metrics.get("n_samples"),
        "git_commit": config.git_commit,
        **{name: metric_value(metrics, BY_NAME[name].path) for name in ROW_METRICS},
    }


@contextmanager
def file_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive fcntl lock on <target>.lock, so two finishing evaluations rebuild one at a time."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def collect_rows(runs_dir: Path) -> list[dict[str, Any]]:
    """Rows of every run folder under RUNS_DIR that has a readable metrics.json, oldest first."""
    rows = []
    for run in list_runs(runs_dir):
        if not (run.path / "metrics.json").is_file():
            continue
        try:
            rows.append(leaderboard_row(run))
        except LogevalError as exc:  # one broken folder must not hide every other run
            log.warning("skipping %s: %s", run.run_id, exc)
    return rows


def rebuild_leaderboard(runs_dir: Path, out: Path) -> list[dict[str, Any]]:
    """Rebuild OUT (leaderboard.json) from every scored run under RUNS_DIR, atomically and under a lock.

    Returns:
        The rows written, oldest run first.
    """
    with file_lock(out):
        rows = collect_rows(runs_dir)
        write_json_atomic(out, {"format_version": RUN_FORMAT_VERSION,
                                "updated": datetime.now(timezone.utc).isoformat(), "rows": rows})
    return rows


def read_leaderboard(path: Path) -> list[dict[str, Any]]:
    """The rows of a leaderboard.json ([] when it does not exist yet)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except json.JSONDecodeError as exc:
        raise RunError(f"{path} is not valid JSON: {exc}; rebuild it with `logeval leaderboard`") from exc
    return list(data.get("rows", [])) if isinstance(data, dict) else list(data)


def sort_rows(rows: Sequence[Mapping[str, Any]], metric: str) -> list[dict[str, Any]]:
    """ROWS best-first by METRIC (lower is better for latency, tokens, cost, failure rates), missing last."""
    if metric not in SORTABLE:
        raise RunError(f"cannot sort by {metric!r}; choose one of: {', '.join(SORTABLE)}")
    present = [dict(r) for r in rows if r.get(metric) is not None]
    missing = [dict(r) for r in rows if r.get(metric) is None]
    return sorted(present, key=lambda r: r[metric], reverse=metric not in LOWER_IS_BETTER) + missing


def pareto_front(rows: Sequence[Mapping[str, Any]], *, x: str = "avg_latency_ms", y: str = "accuracy"
                 ) -> list[dict[str, Any]]:
    """Rows no other row beats on both Y (higher) and X (lower), sorted by X."""
    points = [dict(r) for r in rows if r.get(x) is not None and r.get(y) is not None]
    front = [p for p in points if not any(q[x] <= p[x] and q[y] >= p[y] and (q[x] < p[x] or q[y] > p[y])
                                          for q in points)]
    return sorted(front, key=lambda r: (r[x], -r[y]))


def _scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    return out_lo + (out_hi - out_lo) * ((value - lo) / (hi - lo) if hi > lo else 0.5)


def svg_scatter(rows: Sequence[Mapping[str, Any]], *, width: int = 560, height: int = 320) -> str:
    """Accuracy vs average latency; the Pareto front is drawn as a line through red points."""
    points = [r for r in rows if r.get("avg_latency_ms") is not None and r.get("accuracy") is not None]
    if not points:
        return "<p>no scored runs</p>"
    xs = [float(r["avg_latency_ms"]) for r in points]
    front_ids = {r["run_id"] for r in pareto_front(points)}

    def xy(r: Mapping[str, Any]) -> tuple[float, float]:
        return (_scale(float(r["avg_latency_ms"]), min(xs), max(xs), 60, width - 20),
                _scale(float(r["accuracy"]), 0.0, 1.0, height - 40, 20))

    front_pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(r) for r in pareto_front(points)))
    dots = "".join(
        f'<circle cx="{xy(r)[0]:.1f}" cy="{xy(r)[1]:.1f}" r="6" '
        f'fill="{"#d62728" if r["run_id"] in front_ids else "#4c78a8"}"><title>{escape(str(r["run_id"]))}: '
        f"{fmt(r['accuracy'], 'pct')}, {fmt(r['avg_latency_ms'], 'ms')}</title></circle>" for r in points)
    axes = (f'<line x1="60" y1="{height - 40}" x2="{width - 20}" y2="{height - 40}" stroke="#889"/>'
            f'<line x1="60" y1="20" x2="60" y2="{height - 40}" stroke="#889"/>'
            f'<text x="{width / 2}" y="{height - 8}" font-size="12" text-anchor="middle">avg latency (ms): '
            f'{min(xs):.0f} – {max(xs):.0f}</text><text x="8" y="24" font-size="11">100%</text>'
            f'<text x="8" y="{height - 40}" font-size="11">0%</text>')
    return (f'<svg width="{width}" height="{height}" role="img">{axes}<polyline points="{front_pts}" '
            f'fill="none" stroke="#d62728" stroke-dasharray="4 3"/>{dots}</svg>')


def svg_over_time(rows: Sequence[Mapping[str, Any]], *, width: int = 560, height: int = 320) -> str:
    """Root cause accuracy of each experiment's runs in time order, one polyline per experiment."""
    points = sorted((r for r in rows if r.get("accuracy") is not None), key=lambda r: str(r["run_timestamp"]))
    if not points:
        return "<p>no scored runs</p>"
    order = {r["run_id"]: i for i, r in enumerate(points)}
    colors = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d"]
    lines = []
    for k, exp in enumerate(sorted({str(r["experiment_id"]) for r in points})):
        runs = [r for r in points if str(r["experiment_id"]) == exp]
        pts = [(_scale(order[r["run_id"]], 0, len(points) - 1, 60, width - 20),
                _scale(float(r["accuracy"]), 0.0, 1.0, height - 40, 20)) for r in runs]
        color = colors[k % len(colors)]
        lines.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" fill="none" '
                     f'stroke="{color}" stroke-width="2"/>' + "".join(
                         f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{color}"/>' for a, b in pts)
                     + f'<text x="{width - 150}" y="{20 + 14 * k}" font-size="11" fill="{color}">'
                     f"{escape(exp)}</text>")
    axis = (f'<line x1="60" y1="{height - 40}" x2="{width - 20}" y2="{height - 40}" stroke="#889"/>'
            f'<text x="{width / 2}" y="{height - 8}" font-size="12" text-anchor="middle">'
            'runs, oldest → newest</text><text x="8" y="24" font-size="11">100%</text>'
            f'<text x="8" y="{height - 40}" font-size="11">0%</text>')
    return f'<svg width="{width}" height="{height}" role="img">{axis}{"".join(lines)}</svg>'


def _cell_text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    if column in KINDS:
        return fmt(value, KINDS[column])
    return "" if value is None else str(value)


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell_text(r, c))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def best_per_metric(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """For each KINDS metric, the best row: {metric, value, run_id, experiment_id, model_name, program}."""
    best = []
    for metric in KINDS:
        ranked = sort_rows(rows, metric)
        if ranked and ranked[0].get(metric) is not None:
            top = ranked[0]
            best.append({"metric": metric, "value": fmt(top[metric], KINDS[metric]), "run_id": top["run_id"],
                         "experiment_id": top["experiment_id"], "model_name": top["model_name"],
                         "program": top["program"]})
    return best


def write_leaderboard_html(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Write leaderboard.html: scatter with Pareto front, accuracy over time, best per metric, all rows."""
    best = best_per_metric(rows)
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Leaderboard</title>'
            f"<style>{CSS}</style></head><body><h1>Leaderboard</h1><div class=\"meta\">{len(rows)} runs</div>"
            f'<div class="row"><div class="panel"><h2>Accuracy vs latency (red: Pareto front)</h2>'
            f'{svg_scatter(rows)}</div><div class="panel"><h2>Accuracy over time per experiment</h2>'
            f"{svg_over_time(rows)}</div></div><h2>Best config per metric</h2>"
            f"{_table(best, ('metric', 'value', 'run_id', 'experiment_id', 'model_name', 'program'))}"
            f"<h2>All runs (best composite first)</h2>{_table(sort_rows(rows, 'composite'), COLUMNS)}"
            "</body></html>\n")
    path.write_text(html, encoding="utf-8")
    return path
