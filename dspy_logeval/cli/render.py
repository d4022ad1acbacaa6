"""Rich renderings shared by commands: the metrics summary table and the evaluation progress bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from dspy_logeval.cli.common import console
from dspy_logeval.runs.metric_keys import BY_NAME, MetricKey, format_value, metric_ci, metric_value

if TYPE_CHECKING:
    from dspy_logeval.runs.record import SampleRecord

TABLE_KEYS = ("accuracy", "severity_accuracy", "action_accuracy", "severity_macro_f1", "component_f1", "rouge_l",
              "composite", "hallucination_rate", "missed_log_rate", "parse_failure_rate")


def _with_ci(metrics: dict[str, Any], key: MetricKey) -> str:
    text = format_value(metric_value(metrics, key.path), key.unit)
    ci = metric_ci(metrics, key.path) if key.ci else None
    return f"{text}  [{format_value(ci[0], key.unit)}, {format_value(ci[1], key.unit)}]" if ci else text


def metrics_table(metrics: dict[str, Any], *, title: str = "") -> Table:
    """The headline numbers of one run, with 95% CIs where computed (rows from runs.metric_keys)."""
    perf = metrics["performance"]
    table = Table("metric", "value", title=title, show_header=True)
    for key in (BY_NAME[name] for name in TABLE_KEYS):
        table.add_row(key.label, _with_ci(metrics, key))
    table.add_row("latency avg / p50 / p95 / p99 (ms)", " / ".join(
        f"{perf[k]:.0f}" for k in ("avg_latency_ms", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms")))
    table.add_row("tokens prompt / completion / cached", " / ".join(
        f"{perf.get(k, 0):,}" for k in ("prompt_tokens", "completion_tokens", "cached_tokens"))
        + f" ({perf.get('cached_prompt_share', 0.0):.0%} of prompt tokens cached)")
    table.add_row("cost (USD)", f"{perf['cost_usd']:.4f}")
    table.add_row("samples / errors", f"{metrics['n_samples']} / {metrics['n_errors']}")
    return table


def floors_table(metrics: dict[str, Any]) -> Table | None:
    """The no-LLM floors beside the run, with the lift over the best one (None for a run without floors)."""
    from dspy_logeval.runs.floors_view import COLUMNS, floor_table, has_floors

    if not has_floors(metrics):
        return None
    table = Table("", *(label for _, _, label, _ in COLUMNS), title="no-LLM floors on the same samples")
    for row in floor_table(metrics):
        table.add_row(*row)
    return table


def print_run(metrics: dict[str, Any], *, title: str) -> None:
    """A run's metrics table, its floors table and the plain floor verdicts."""
    from dspy_logeval.runs.floors_view import verdict_lines

    console.print(metrics_table(metrics, title=title))
    floors = floors_table(metrics)
    if floors is not None:
        console.print(floors)
    for line in verdict_lines(metrics):
        console.print(line, highlight=False, soft_wrap=True)


class EvalProgress:
    """A progress bar with done/total, rate, ETA and running root-cause accuracy; a callback for the runner."""

    def __init__(self, *, description: str = "evaluating", plain_every: int = 10) -> None:
        # Off a terminal (CI logs, pipes) the bar cannot redraw: print a plain line every PLAIN_EVERY samples.
        self.plain = not console.is_terminal
        self.description, self.plain_every = description, plain_every
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]}"), TextColumn("acc {task.fields[acc]}"),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=console)
        self.task = self.progress.add_task(description, total=None, rate="", acc="-")
        self.done = self.correct = 0

    def __call__(self, record: SampleRecord, total: int) -> None:
        self.progress.update(self.task, total=total)
        self.done += 1
        self.correct += record.is_correct
        elapsed = self.progress.tasks[0].elapsed or 1e-9
        self.progress.update(self.task, advance=1, acc=f"{self.correct / self.done:.1%}",
                             rate=f"{self.done / elapsed:.2f}/s")
        if self.plain and (self.done % self.plain_every == 0 or self.done == total):
            eta = (total - self.done) * elapsed / self.done
            console.print(f"{self.description}: {self.done}/{total} ({self.done / elapsed:.2f}/s, "
                          f"acc {self.correct / self.done:.1%}, ETA {eta / 60:.1f} min)", highlight=False)

    def __enter__(self) -> EvalProgress:
        if not self.plain:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.plain:
            self.progress.stop()
