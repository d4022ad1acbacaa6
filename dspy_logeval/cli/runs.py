"""`logeval compare | leaderboard | report | export-metrics`: commands over finished run folders."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from dspy_logeval.cli.common import (
    BY_COMPOSITE,
    GATE_FAILED,
    OutputFormat,
    SortChoice,
    SplitChoice,
    console,
    reported_errors,
)
from dspy_logeval.core.errors import RunError
from dspy_logeval.core.paths import LEADERBOARD_PATH, RUNS_DIR
from dspy_logeval.runs.metric_keys import BY_NAME, format_value
from dspy_logeval.runs.ranking import group_name, group_of

if TYPE_CHECKING:
    from dspy_logeval.runs.compare import Comparison
    from dspy_logeval.runs.folder import RunFolder

RunsDirOpt = Annotated[Path, typer.Option("--runs-dir", help="Where run folders live.", hidden=True)]
TABLE_COLUMNS = ("rank", "run_id", "model_name", "program", "prompt_template", "n_samples", "accuracy",
                 "best_floor_accuracy", "lift_accuracy", "composite", "severity_accuracy", "avg_latency_ms",
                 "p95_latency_ms", "total_tokens", "cost_usd")
"""The dataset version and split are in each table's title: runs are ranked only within one of them."""
HEADERS = {"model_name": "model", "prompt_template": "prompt", "n_samples": "n", "best_floor_accuracy": "floor acc",
           "lift_accuracy": "lift", "severity_accuracy": "severity", "avg_latency_ms": "avg latency",
           "p95_latency_ms": "p95 latency", "total_tokens": "tokens", "cost_usd": "cost"}
"""Short headers, so a 200-column log fits every column whole."""
ESSENTIAL = ("rank", "run_id", "accuracy", "composite")
"""Shown at any width; the rest of TABLE_COLUMNS only where they fit whole, in PRIORITY order."""
PRIORITY = ("avg_latency_ms", "model_name", "program", "n_samples", "best_floor_accuracy", "lift_accuracy",
            "severity_accuracy", "prompt_template", "p95_latency_ms", "total_tokens", "cost_usd")


class CompareFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"


class MetricsFormat(str, Enum):
    prometheus = "prometheus"
    json = "json"


def _leaderboard_path(runs_dir: Path) -> Path:
    # The default runs dir keeps the configured leaderboard; another one's sits beside it, as the runner
    # writes it.
    return LEADERBOARD_PATH if runs_dir == RUNS_DIR else runs_dir.parent / "leaderboard.json"


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    key = BY_NAME.get(column)
    return format_value(value, key.unit) if key else ("" if value is None else str(value))


def _text(row: Mapping[str, Any], column: str, index: int) -> str:
    return str(row.get("rank", index)) if column == "rank" else _cell(row, column)


def _widths(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The width each column needs to show its header and every cell whole."""
    return {c: max([len(HEADERS.get(c, c))] + [len(_text(r, c, i)) for i, r in enumerate(rows, 1)])
            for c in TABLE_COLUMNS}


def fitting_columns(rows: Sequence[Mapping[str, Any]], width: int) -> list[str]:
    """TABLE_COLUMNS that fit WIDTH whole, in order: ESSENTIAL ones always, then the others while they fit."""
    need = {c: w + 3 for c, w in _widths(rows).items()}  # padding and a border per column
    budget = width - 1 - sum(need[c] for c in ESSENTIAL)
    keep = set(ESSENTIAL)
    for column in PRIORITY:
        if need[column] <= budget:
            keep.add(column)
            budget -= need[column]
    return [c for c in TABLE_COLUMNS if c in keep]


def leaderboard_table(rows: Sequence[Mapping[str, Any]], *, title: str, width: int | None = None) -> Table:
    """A rich table of leaderboard rows, every cell whole: on a console narrower than WIDTH (default: the
    console's), the least important columns are left out (the caption says which), and a run id too long for
    even the essential columns folds onto a second line rather than losing characters."""
    width = width or console.width
    columns, widths = fitting_columns(rows, width), _widths(rows)
    hidden = [HEADERS.get(c, c) for c in TABLE_COLUMNS if c not in columns]
    caption = f"not shown at this width: {', '.join(hidden)} (--format json has all)" if hidden else None
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    folds = sum(widths[c] + 3 for c in columns) + 1 > width
    for column in columns:
        numeric = column in BY_NAME or column in ("rank", "n_samples")
        fold = folds and column == "run_id"
        table.add_column(HEADERS.get(column, column), justify="right" if numeric else "left", no_wrap=not fold,
                         overflow="fold", min_width=None if fold else widths[column])
    for i, row in enumerate(rows, start=1):
        table.add_row(*(_text(row, c, i) for c in columns))
    return table


def comparison_table(result: Comparison) -> Table:
    """A rich table of a comparison's metric deltas (the full run ids are in the title)."""
    table = Table("metric", "A", "B", "B − A", "95% paired CI", title=f"B {result.run_b} vs A {result.run_a}",
                  title_justify="left")
    for row in result.table_rows():
        table.add_row(*row)
    return table


class FailOn(str, Enum):
    worse = "worse"


def compare_command(
    run_a: Annotated[str, typer.Argument(help="Baseline run: id, unique prefix/suffix, folder or 'latest'.")],
    run_b: Annotated[str, typer.Argument(help="Candidate run, compared against RUN_A.")],
    force: Annotated[bool, typer.Option(help="Compare even when the runs used different datasets.")] = False,
    fmt: Annotated[CompareFormat, typer.Option("--format", help="table, markdown, or json (one document on "
                                                                "stdout).")] = CompareFormat.table,
    markdown: Annotated[bool, typer.Option(help="Same as --format markdown.", hidden=True)] = False,
    fail_on: Annotated[FailOn | None, typer.Option(
        help="Exit 3 when the verdict is 'worse' (RUN_B significantly worse than RUN_A), for CI.")] = None,
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Compare RUN_B against RUN_A on their shared samples: deltas with CIs, McNemar, verdict.

    Example: logeval compare 20261205-102905-predict-smollm2 latest --format json

    Exit codes: 0 done (with --fail-on worse: not worse), 1 error, 3 --fail-on worse and the verdict is worse.
    """
    from dspy_logeval.runs.folder import resolve_run

    with reported_errors():
        a, b = resolve_run(run_a, runs_dir), resolve_run(run_b, runs_dir)  # a typo fails before the heavy imports
        from dspy_logeval.runs import compare

        result = compare.compare_runs(a, b, force=force)
    if fmt is CompareFormat.json:
        typer.echo(json.dumps({"format_version": 1, **result.to_dict()}, indent=2, default=str))
    elif markdown or fmt is CompareFormat.markdown:
        typer.echo(result.to_markdown())
    else:
        print_comparison(result)
    if fail_on is FailOn.worse and result.verdict == "worse":
        typer.secho(f"failed: {result.run_b} is significantly worse than {result.run_a}", fg=typer.colors.RED,
                    err=True)
        raise typer.Exit(code=GATE_FAILED)


def print_comparison(result: Comparison) -> None:
    """Warnings, the delta table, McNemar's counts and p, and the verdict line."""
    for warning in result.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    console.print(comparison_table(result))
    typer.echo(f"McNemar: {len(result.wrong_to_right)} wrong→right, {len(result.right_to_wrong)} "
               f"right→wrong, p={result.mcnemar_p:.4f}; {result.n_shared} shared samples")
    typer.echo(f"verdict: {result.verdict}")
    for note in result.floor_notes:
        typer.echo(f"against the floor, {note}")


def leaderboard_command(
    sort: Annotated[SortChoice, typer.Option(help="Rank by this metric (best first) within each dataset version "
                                                  "and split.")] = BY_COMPOSITE,
    limit: Annotated[int | None, typer.Option(help="Show only the best N runs of each group.", min=1)] = None,
    dataset: Annotated[str | None, typer.Option(help="Only runs on this dataset version, e.g. golden-v2.")] = None,
    split: Annotated[SplitChoice | None, typer.Option(help="Only runs on this split.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, or json (one document on stdout).")
                   ] = OutputFormat.table,
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Rebuild leaderboard.json and leaderboard.html from every scored run and print the ranking, one table per
    dataset version and split (runs on different data are never ranked together).

    Example: logeval leaderboard --sort accuracy --dataset golden-v2 --split test --limit 5
    """
    from dspy_logeval.runs import leaderboard

    out = _leaderboard_path(runs_dir)
    with reported_errors():
        rows = [r for r in leaderboard.rebuild_leaderboard(runs_dir, out)
                if (dataset is None or r.get("dataset_version") == dataset)
                and (split is None or r.get("split") == split.value)]
        ranked = [r for r in leaderboard.ranked(rows, sort.value) if limit is None or r["rank"] <= limit]
    if fmt is OutputFormat.json:
        typer.echo(json.dumps({"format_version": 1, "sort": sort.value, "rows": ranked}, indent=2, default=str))
        return
    for group in dict.fromkeys(group_of(r) for r in ranked):
        members = [r for r in ranked if group_of(r) == group]
        console.print(leaderboard_table(members, title=f"Leaderboard by {sort.value}: {group_name(group)}"))
    typer.echo(f"{len(rows)} runs; wrote {out} and {out.with_suffix('.html')}")


def report_command(
    run: Annotated[str, typer.Argument(help="Run id, unique prefix/suffix, folder or 'latest'.")],
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Recompute metrics.json, summary.md and report.html of RUN from its results.jsonl.

    Example: logeval report latest
    """
    from dspy_logeval.runs.folder import resolve_run

    with reported_errors():
        folder = resolve_run(run, runs_dir)
        from dspy_logeval.runs import leaderboard, report

        metrics, lost = report.rescore_run(folder)
        leaderboard.rebuild_leaderboard(runs_dir, _leaderboard_path(runs_dir))
    if lost:
        typer.secho(f"warning: {lost} unreadable line(s) in results.jsonl were lost (truncated write?); "
                    f"scored the {metrics['n_samples']} complete samples", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"{folder.run_id}: accuracy={metrics['accuracy']['root_cause_exact_match']:.3f} "
               f"composite={metrics['composite']:.3f} n={metrics['n_samples']}")
    typer.echo(f"wrote {folder.path / 'summary.md'} and {folder.path / 'report.html'}")


def _select_runs(run: str | None, *, all_runs: bool, runs_dir: Path) -> list[RunFolder]:
    from dspy_logeval.runs import prometheus
    from dspy_logeval.runs.folder import list_runs, resolve_run
    if run and all_runs:
        raise RunError("give either a RUN or --all, not both")
    if all_runs:
        runs = prometheus.scored(list_runs(runs_dir))
        if not runs:
            raise RunError(f"no scored runs in {runs_dir}: run `logeval evaluate` first")
        return runs
    folder = resolve_run(run or "latest", runs_dir)
    if not (folder.path / "metrics.json").is_file():
        raise RunError(f"{folder.run_id} has no metrics.json; "
                       f"rebuild it with `logeval report {folder.run_id}`")
    return [folder]


def export_metrics_command(
    run: Annotated[str | None, typer.Argument(help="Run id or folder (default: the latest run).")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Export the newest run (the default).")] = False,
    all_runs: Annotated[bool, typer.Option("--all", help="Export every scored run.")] = False,
    fmt: Annotated[MetricsFormat, typer.Option("--format", help="Output format.")] = MetricsFormat.prometheus,
    push_gateway: Annotated[str | None, typer.Option(
        help="Pushgateway URL; each run is PUT to its own group (job/logeval/experiment/ID/run/RUN_ID).")] = None,
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Print run metrics as Prometheus text exposition or JSON, or push them to a Pushgateway.

    Example: logeval export-metrics --all --format json
    """
    from dspy_logeval.runs import prometheus

    with reported_errors():
        runs = _select_runs(None if latest and not run else run, all_runs=all_runs, runs_dir=runs_dir)
        text = prometheus.render_json(runs) if fmt is MetricsFormat.json else prometheus.render_prometheus(runs)
        if push_gateway:
            if fmt is not MetricsFormat.prometheus:
                raise RunError("--push-gateway needs --format prometheus")
            prometheus.push_to_gateway(runs, push_gateway)
    if push_gateway:
        typer.echo(f"pushed {len(runs)} run(s) to {push_gateway}")
    else:
        typer.echo(text, nl=False)


def register(app: typer.Typer) -> None:
    """Add compare, leaderboard, report and export-metrics to APP."""
    app.command("compare")(compare_command)
    app.command("leaderboard")(leaderboard_command)
    app.command("report")(report_command)
    app.command("export-metrics")(export_metrics_command)
