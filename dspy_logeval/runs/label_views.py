"""What a run predicted, label by label: the root-cause confusion (truth vs predicted) and label distributions.

A program that answers the same two labels for everything shows here as two full columns, whatever its
accuracy reads. Reads records (results.jsonl lines as dicts) only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from dspy_logeval.runs.charts import svg_heatmap, svg_paired_bars

FAILED = "(failed)"
"""The predicted label of a sample whose answer was missing or did not parse."""
OTHER = "(other)"
TOP_ROWS, TOP_COLUMNS, TOP_PAIRS, TOP_BARS = 16, 10, 12, 20


def predicted_label(record: Mapping[str, Any], field: str) -> str:
    """The label RECORD predicted for FIELD, or FAILED."""
    value = (record.get("predicted") or {}).get(field)
    return FAILED if value is None else str(value)


def true_label(record: Mapping[str, Any], field: str) -> str:
    return str((record.get("actual") or {}).get(field))


def label_pairs(records: Sequence[Mapping[str, Any]], field: str = "root_cause") -> Counter[tuple[str, str]]:
    """How often each (truth, predicted) pair of FIELD occurs."""
    return Counter((true_label(r, field), predicted_label(r, field)) for r in records)


def confusion(records: Sequence[Mapping[str, Any]], field: str = "root_cause", *, rows: int = TOP_ROWS,
              columns: int = TOP_COLUMNS) -> tuple[list[str], list[str], list[list[int]]]:
    """(true labels, predicted labels, counts): the most frequent of each, the rest folded into OTHER."""
    pairs = label_pairs(records, field)
    truth = Counter(true_label(r, field) for r in records)
    predicted = Counter(predicted_label(r, field) for r in records)
    row_names = [name for name, _ in truth.most_common(rows)]
    col_names = [name for name, _ in predicted.most_common(columns)]
    if len(predicted) > columns:
        col_names.append(OTHER)
    if len(truth) > rows:
        row_names.append(OTHER)

    def fold(name: str, kept: list[str]) -> str:
        return name if name in kept else OTHER

    matrix = [[0] * len(col_names) for _ in row_names]
    for (t, p), n in pairs.items():
        matrix[row_names.index(fold(t, row_names))][col_names.index(fold(p, col_names))] += n
    return row_names, col_names, matrix


def distribution(records: Sequence[Mapping[str, Any]], field: str, *, top: int = TOP_BARS
                 ) -> list[tuple[str, int, int]]:
    """(label, times predicted, times true) for the TOP labels of FIELD by the larger of the two counts, most
    predicted first."""
    predicted = Counter(predicted_label(r, field) for r in records)
    truth = Counter(true_label(r, field) for r in records)
    kept = sorted(set(predicted) | set(truth), key=lambda name: (-max(predicted[name], truth[name]), name))[:top]
    labels = sorted(kept, key=lambda name: (-predicted[name], -truth[name], name))
    return [(name, predicted[name], truth[name]) for name in labels]


def concentration_note(records: Sequence[Mapping[str, Any]], field: str = "root_cause") -> str:
    """One line on how spread the predictions are: distinct labels predicted vs true, top-two share."""
    predicted = Counter(predicted_label(r, field) for r in records)
    truth = {true_label(r, field) for r in records}
    top_two = sum(n for _, n in predicted.most_common(2))
    share = top_two / len(records) if records else 0.0
    names = ", ".join(name for name, _ in predicted.most_common(2))
    return (f"{len(predicted)} distinct {field.replace('_', ' ')} labels predicted for {len(truth)} true ones; "
            f"the two most frequent ({names}) take {share:.0%} of the {len(records)} answers.")


def _pairs_table(records: Sequence[Mapping[str, Any]], field: str) -> str:
    total = len(records) or 1
    rows = "".join(
        f'<tr class="{"ok" if t == p else "bad"}"><td>{escape(t)}</td><td>{escape(p)}</td>'
        f'<td class="num">{n}</td><td class="num">{n / total:.0%}</td></tr>'
        for (t, p), n in label_pairs(records, field).most_common(TOP_PAIRS))
    return ('<table id="pairs"><thead><tr><th>true root cause</th><th>predicted</th><th class="num">samples</th>'
            f'<th class="num">share</th></tr></thead><tbody>{rows}</tbody></table>')


def confusion_html(records: Sequence[Mapping[str, Any]]) -> str:
    """report.html's root-cause section: the heatmap (rows true, columns predicted) and the top pairs."""
    if not records:
        return ""
    rows, columns, matrix = confusion(records)
    return ('<h2>Root cause: truth vs prediction</h2>'
            f'<div class="note">{escape(concentration_note(records))}</div><div class="row"><div class="panel">'
            "<h3>Confusion (rows true, columns predicted; diagonal outlined)</h3>"
            f'{svg_heatmap(rows, columns, matrix)}</div><div class="panel"><h3>Most frequent (truth, predicted) '
            f"pairs</h3>{_pairs_table(records, 'root_cause')}</div></div>")


def distribution_html(records: Sequence[Mapping[str, Any]]) -> str:
    """report.html's predicted-label distributions: root cause and severity, each beside its true counts."""
    if not records:
        return ""
    panels = "".join(
        f'<div class="panel"><h3>{title}: predicted (blue) vs true (grey)</h3>'
        f"{svg_paired_bars(distribution(records, field))}</div>"
        for field, title in (("root_cause", f"Root cause (top {TOP_BARS})"), ("severity", "Severity")))
    return f'<h2>Predicted label distribution</h2><div class="row">{panels}</div>'
