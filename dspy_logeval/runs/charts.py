"""Inline SVG charts for report.html and leaderboard.html: real axes with ticks, gridlines and labels.

No JS and no network: each function returns one <svg> element. Values are formatted by unit (metric_keys.Unit)
on the axes; latency axes switch from ms to s past a second and to a log scale when values span decades.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from dspy_logeval.runs.metric_keys import Unit
from dspy_logeval.runs.metric_keys import format_value as fmt

AXIS = "#667"
GRID = "#e3e6eb"
BLUE, ORANGE, GREY, RED = "#4c78a8", "#f58518", "#b8bec8", "#d62728"


def nice_step(span: float, count: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) that cuts SPAN into about COUNT parts."""
    raw = span / max(count, 1) if span > 0 else 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def tick_label(value: float, unit: Unit) -> str:
    """An axis label: 40%, 250 ms, 1.5 s, 1,200, 0.25."""
    if unit == "pct":
        return f"{value * 100:.0f}%"
    if unit == "ms":
        return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"
    if unit == "int":
        return f"{value:,.0f}"
    return f"{value:g}"


@dataclass(frozen=True)
class Scale:
    """A value range mapped onto pixels, linear or log10, with its ticks."""

    lo: float
    hi: float
    out_lo: float
    out_hi: float
    log: bool = False
    min_step: float = 0.0
    """The smallest tick step (1 for counts: no tick at 0.25 samples)."""

    def __call__(self, value: float) -> float:
        lo, hi, v = self.lo, self.hi, value
        if self.log:
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(max(value, self.lo))
        share = (v - lo) / (hi - lo) if hi > lo else 0.5
        return self.out_lo + (self.out_hi - self.out_lo) * share

    def ticks(self, count: int = 5) -> list[float]:
        if self.log:
            decades = range(math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi)) + 1)
            steps = (1, 2, 5) if math.log10(self.hi / self.lo) <= 2 else (1,)
            marks = [m * 10 ** d for d in decades for m in steps]
            return [t for t in marks if self.lo <= t <= self.hi * 1.0001]
        step = max(nice_step(self.hi - self.lo, count), self.min_step)
        first = math.ceil(self.lo / step - 1e-9) * step
        return [round(first + i * step, 10) for i in range(int((self.hi - first) / step + 1e-9) + 1)]


def value_scale(values: Sequence[float], out_lo: float, out_hi: float, *, unit: Unit = "num",
                count: int = 5) -> Scale:
    """A scale for VALUES: 0-100% for shares; from 0 up to a round number past the maximum otherwise, or log10
    when positive values span more than two decades (latency of a 135M and a 1.5B model on one chart)."""
    if unit == "pct":
        return Scale(0.0, 1.0, out_lo, out_hi)
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if lo > 0 and hi / lo > 100:
        return Scale(10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi)), out_lo, out_hi, log=True)
    top = hi if hi > 0 else 1.0
    min_step = 1.0 if unit == "int" else 0.0
    step = max(nice_step(top, count), min_step)
    return Scale(0.0, math.ceil(top / step - 1e-9) * step, out_lo, out_hi, min_step=min_step)


def x_axis(scale: Scale, *, y: float, top: float, unit: Unit, label: str, count: int = 5) -> str:
    """A horizontal axis at Y: line, ticks with labels, vertical gridlines up to TOP, and the axis title."""
    parts = [f'<line x1="{scale.out_lo}" y1="{y}" x2="{scale.out_hi}" y2="{y}" stroke="{AXIS}"/>']
    for t in scale.ticks(count):
        x = scale(t)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{y}" stroke="{GRID}"/>'
                     f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="{AXIS}"/>'
                     f'<text x="{x:.1f}" y="{y + 15}" font-size="10" text-anchor="middle" fill="{AXIS}">'
                     f"{escape(tick_label(t, unit))}</text>")
    mid = (scale.out_lo + scale.out_hi) / 2
    parts.append(f'<text x="{mid:.1f}" y="{y + 30}" font-size="11" text-anchor="middle">{escape(label)}</text>')
    return "".join(parts)


def y_axis(scale: Scale, *, x: float, right: float, unit: Unit, label: str, count: int = 5) -> str:
    """A vertical axis at X: line, ticks with labels, horizontal gridlines to RIGHT, and the rotated title."""
    parts = [f'<line x1="{x}" y1="{scale.out_lo}" x2="{x}" y2="{scale.out_hi}" stroke="{AXIS}"/>']
    for t in scale.ticks(count):
        y = scale(t)
        parts.append(f'<line x1="{x}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<line x1="{x - 4}" y1="{y:.1f}" x2="{x}" y2="{y:.1f}" stroke="{AXIS}"/>'
                     f'<text x="{x - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end" fill="{AXIS}">'
                     f"{escape(tick_label(t, unit))}</text>")
    mid = (scale.out_lo + scale.out_hi) / 2
    parts.append(f'<text x="12" y="{mid:.1f}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {mid:.1f})">{escape(label)}</text>')
    return "".join(parts)


def svg_hbars(items: Sequence[tuple[str, float]], *, width: int = 480, unit: Unit = "pct", label_w: int = 170,
              axis_label: str = "") -> str:
    """Horizontal bars (label, value) with a value axis underneath (0-100% for shares)."""
    if not items:
        return "<p>nothing to show</p>"
    row, top = 20, 6
    bottom = top + row * len(items)
    scale = value_scale([v for _, v in items], label_w, width - 50, unit=unit, count=4)
    bars = [x_axis(scale, y=bottom, top=top, unit=unit, label=axis_label, count=4)]
    for i, (label, value) in enumerate(items):
        y, w = top + i * row, scale(value) - label_w
        bars.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="11">{escape(label)}</text>'
                    f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 0):.1f}" height="13" fill="{BLUE}"/>'
                    f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" font-size="10">{fmt(value, unit)}</text>')
    return f'<svg width="{width}" height="{bottom + 36}" role="img">{"".join(bars)}</svg>'


def svg_paired_bars(items: Sequence[tuple[str, int, int]], *, width: int = 480, label_w: int = 170,
                    names: tuple[str, str] = ("predicted", "truth")) -> str:
    """Two bars per label (label, first count, second count): e.g. how often a label was predicted vs true."""
    if not items:
        return "<p>nothing to show</p>"
    row, top = 24, 22
    bottom = top + row * len(items)
    scale = value_scale([float(max(a, b)) for _, a, b in items], label_w, width - 40, unit="int", count=4)
    parts = [f'<rect x="{label_w}" y="4" width="10" height="10" fill="{BLUE}"/><text x="{label_w + 14}" y="13" '
             f'font-size="11">{escape(names[0])}</text><rect x="{label_w + 90}" y="4" width="10" height="10" '
             f'fill="{GREY}"/><text x="{label_w + 104}" y="13" font-size="11">{escape(names[1])}</text>',
             x_axis(scale, y=bottom, top=top, unit="int", label="samples", count=4)]
    for i, (label, first, second) in enumerate(items):
        y = top + i * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="11">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{scale(first) - label_w:.1f}" height="10" '
                     f'fill="{BLUE}"><title>{escape(label)}: {names[0]} {first}</title></rect>'
                     f'<rect x="{label_w}" y="{y + 13}" width="{scale(second) - label_w:.1f}" height="7" '
                     f'fill="{GREY}"><title>{escape(label)}: {names[1]} {second}</title></rect>'
                     f'<text x="{scale(max(first, second)) + 4:.1f}" y="{y + 15}" font-size="10">{first} / '
                     f"{second}</text>")
    return f'<svg width="{width}" height="{bottom + 36}" role="img">{"".join(parts)}</svg>'


def svg_heatmap(rows: Sequence[str], columns: Sequence[str], matrix: Sequence[Sequence[int]], *,
                cell: int = 34, label_w: int = 170, head: int = 110) -> str:
    """A confusion heatmap: ROWS true labels, COLUMNS predicted (names slanted on top); diagonal outlined."""
    peak = max((v for r in matrix for v in r), default=0) or 1
    parts = []
    for j, name in enumerate(columns):
        x = label_w + j * cell + cell / 2
        parts.append(f'<text x="{x:.0f}" y="{head - 6}" font-size="11" transform="rotate(-40 {x:.0f} {head - 6})">'
                     f"{escape(name)}</text>")
    for i, name in enumerate(rows):
        y = head + i * cell
        parts.append(f'<text x="{label_w - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end" font-size="11">'
                     f"{escape(name)}</text>")
        for j, v in enumerate(matrix[i]):
            shade = int(248 - 190 * v / peak)
            stroke = ' stroke="#1b7f3b" stroke-width="2"' if columns[j] == name else ""
            parts.append(f'<rect x="{label_w + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                         f'fill="rgb({shade},{min(shade + 8, 250)},255)"{stroke}><title>true {escape(name)}, '
                         f"predicted {escape(columns[j])}: {v}</title></rect>"
                         + (f'<text x="{label_w + j * cell + cell / 2 - 1:.0f}" y="{y + cell / 2 + 4:.0f}" '
                            f'text-anchor="middle" font-size="11" fill="{"#fff" if shade < 140 else "#1d2430"}">'
                            f"{v}</text>" if v else ""))
    width = label_w + cell * len(columns) + 90
    return f'<svg width="{width}" height="{head + cell * len(rows) + 6}" role="img">{"".join(parts)}</svg>'


def _bins(values: Sequence[float], count: int) -> tuple[list[float], list[int]]:
    """Round bin edges covering VALUES, and how many values fall in each bin."""
    lo, hi = min(values), max(values)
    step = nice_step(hi - lo, count) if hi > lo else nice_step(max(abs(hi), 1.0), count)
    start = math.floor(lo / step) * step
    n = max(1, math.ceil((hi - start) / step + 1e-9)) if hi > lo else 1
    edges = [start + i * step for i in range(n + 1)]
    counts = [0] * n
    for v in values:
        counts[min(int((v - start) / step), n - 1)] += 1
    return edges, counts


def svg_histogram(values: Sequence[float], *, bins: int = 12, width: int = 480, height: int = 220,
                  unit: Unit = "ms", label: str = "latency per sample") -> str:
    """A histogram of VALUES with round bin edges: x axis in UNIT with ticks, y axis in samples."""
    if not values:
        return "<p>no latency recorded</p>"
    edges, counts = _bins(values, bins)
    left, right, top, bottom = 50, width - 16, 10, height - 40
    xs = Scale(edges[0], edges[-1], left, right)
    ys = value_scale([float(c) for c in counts], bottom, top, unit="int", count=4)
    parts = [y_axis(ys, x=left, right=right, unit="int", label="samples", count=4),
             x_axis(xs, y=bottom, top=top, unit=unit, label=label, count=5)]
    for i, n in enumerate(counts):
        x0, x1 = xs(edges[i]), xs(edges[i + 1])
        parts.append(f'<rect x="{x0 + 1:.1f}" y="{ys(n):.1f}" width="{x1 - x0 - 2:.1f}" height="{bottom - ys(n):.1f}" '
                     f'fill="{ORANGE}"><title>{tick_label(edges[i], unit)} – {tick_label(edges[i + 1], unit)}: '
                     f"{n}</title></rect>")
    return f'<svg width="{width}" height="{height}" role="img">{"".join(parts)}</svg>'
