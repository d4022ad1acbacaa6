"""How a run's no-LLM floors read: one table (each floor, the program, the lift) and one verdict line per metric.

summary.md, report.html, the CLI and the compare/optimize/sweep verdicts all take their floor wording from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from dspy_logeval.data.floors import FLOOR_DESCRIPTIONS, FLOOR_NAMES
from dspy_logeval.runs.metric_keys import Unit, format_value, metric_value

# (metrics key under floors.<name>, the program's metrics.json path, column label, unit)
COLUMNS: tuple[tuple[str, str, str, Unit], ...] = (
    ("root_cause_exact_match", "accuracy.root_cause_exact_match", "root cause", "pct"),
    ("severity_classification", "accuracy.severity_classification", "severity", "pct"),
    ("action", "accuracy.action", "action", "pct"),
    ("component_detection", "accuracy.component_detection", "component F1", "pct"),
    ("composite", "composite", "composite", "num"),
)
VERDICT_METRICS = (("root_cause_exact_match", "root cause"), ("composite", "composite"))


def has_floors(metrics: Mapping[str, Any]) -> bool:
    return bool(metrics.get("floors")) and bool(metrics.get("lift_over_floor"))


def floor_table(metrics: Mapping[str, Any]) -> list[list[str]]:
    """Rows [name, value per COLUMNS...]: each floor, then the program, then its lift over the best floor."""
    floors = metrics.get("floors") or {}
    rows = [[f"floor: {name}", *(format_value(floors[name].get(key), unit) for key, _, _, unit in COLUMNS)]
            for name in FLOOR_NAMES if name in floors]
    rows.append(["this run", *(format_value(metric_value(metrics, path), unit) for _, path, _, unit in COLUMNS)])
    lift = metrics.get("lift_over_floor") or {}
    rows.append(["lift over best floor", *(_lift_cell(lift.get(key), unit) for key, _, _, unit in COLUMNS)])
    return rows


def _lift_cell(entry: Mapping[str, Any] | None, unit: Unit) -> str:
    if not entry:
        return "–"
    delta: Unit = "pts" if unit == "pct" else "delta"
    lo, hi = entry["ci"]
    return f"{format_value(entry['lift'], delta)} [{format_value(lo, delta)}, {format_value(hi, delta)}]"


def floor_verdict(metrics: Mapping[str, Any], metric: str = "root_cause_exact_match") -> str | None:
    """'better than', 'worse than' or 'no better than' the best floor on METRIC (paired CI vs 0), or None."""
    entry = (metrics.get("lift_over_floor") or {}).get(metric)
    if not entry:
        return None
    lo, hi = entry["ci"]
    floor = f"{entry['floor']} floor ({FLOOR_DESCRIPTIONS.get(entry['floor'], entry['floor'])})"
    if lo > 0:
        return f"better than the best no-LLM floor, the {floor}"
    if hi < 0:
        return f"worse than the best no-LLM floor, the {floor}"
    return f"no better than the best no-LLM floor, the {floor}"


def verdict_lines(metrics: Mapping[str, Any], *, who: str = "this run") -> list[str]:
    """One plain line per VERDICT_METRICS, e.g. 'root cause: this run is no better than the best no-LLM floor…'."""
    lines = []
    for metric, label in VERDICT_METRICS:
        verdict = floor_verdict(metrics, metric)
        if verdict:
            entry = metrics["lift_over_floor"][metric]
            unit: Unit = "pts" if metric != "composite" else "delta"
            lo, hi = entry["ci"]
            lines.append(f"{label}: {who} is {verdict}: lift {format_value(entry['lift'], unit)} "
                         f"[{format_value(lo, unit)}, {format_value(hi, unit)}]")
    return lines


def floors_markdown(metrics: Mapping[str, Any]) -> list[str]:
    """summary.md's '## No-LLM floors' section (empty for a run without floors)."""
    if not has_floors(metrics):
        return []
    head = ["", "## No-LLM floors (same samples, no model)", "",
            "| | " + " | ".join(label for _, _, label, _ in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    rows = [f"| {' | '.join(row)} |" for row in floor_table(metrics)]
    return head + rows + [""] + [f"- {line}" for line in verdict_lines(metrics)]


def floors_html(metrics: Mapping[str, Any]) -> str:
    """report.html's floors panel: the table and the verdict lines."""
    if not has_floors(metrics):
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in ("", *(label for _, _, label, _ in COLUMNS)))
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in floor_table(metrics))
    lines = "".join(f"<li>{escape(line)}</li>" for line in verdict_lines(metrics))
    return (f'<h2>No-LLM floors (same samples, no model)</h2><table id="floors"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table><ul>{lines}</ul>")
