"""SVG chart axes: round steps, ticks inside the range, log scale when latency spans decades."""

from __future__ import annotations

from dspy_logeval.runs.charts import (
    Scale,
    nice_step,
    svg_heatmap,
    svg_histogram,
    svg_paired_bars,
    tick_label,
    value_scale,
)


def test_nice_step_and_ticks() -> None:
    assert nice_step(100, 5) == 20 and nice_step(7, 5) == 2 and nice_step(0.9, 4) == 0.25
    assert Scale(0, 100, 0, 1).ticks(5) == [0, 20, 40, 60, 80, 100]
    assert Scale(0.0, 1.0, 0, 1).ticks(5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_tick_labels_by_unit() -> None:
    assert tick_label(0.4, "pct") == "40%" and tick_label(250, "ms") == "250 ms"
    assert tick_label(1500, "ms") == "1.5 s" and tick_label(1200, "int") == "1,200"


def test_value_scale_is_linear_from_zero_or_log_across_decades() -> None:
    linear = value_scale([120.0, 900.0], 0, 100, unit="ms")
    assert (linear.lo, linear.hi, linear.log) == (0.0, 1000.0, False)
    wide = value_scale([4.0, 11_000.0], 0, 100, unit="ms")
    assert wide.log and (wide.lo, wide.hi) == (1.0, 100_000.0) and wide.ticks() == [1, 10, 100, 1000, 10_000, 100_000]
    assert value_scale([0.3], 0, 100, unit="pct").hi == 1.0


def test_histogram_bins_are_round_and_labelled() -> None:
    svg = svg_histogram([120, 180, 260, 900, 1400])
    assert "0 ms</text>" in svg and "1.5 s</text>" in svg and ">samples</text>" in svg
    assert svg_histogram([]) == "<p>no latency recorded</p>" and "<svg" in svg_histogram([50.0, 50.0])


def test_heatmap_and_paired_bars_escape_labels() -> None:
    svg = svg_heatmap(["<a>"], ["<a>", "b"], [[2, 1]])
    assert "&lt;a&gt;" in svg and "<a>" not in svg and 'stroke="#1b7f3b"' in svg   # the diagonal outlined
    bars = svg_paired_bars([("x", 3, 1)])
    assert "3 / 1" in bars and "predicted" in bars and "truth" in bars


def test_count_axes_never_tick_between_whole_samples() -> None:
    scale = value_scale([1.0, 2.0], 0, 100, unit="int", count=4)
    assert scale.ticks(4) == [0, 1, 2]
