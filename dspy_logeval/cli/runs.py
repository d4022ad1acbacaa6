"""`logeval compare | leaderboard | report | export-metrics`: commands over finished run folders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.table import Table

from dspy_logeval.cli.common import GATE_FAILED, console, reported_errors
from dspy_logeval.core.errors import RunError
from dspy_logeval.core.paths import LEADERBOARD_PATH, RUNS_DIR
from dspy_logeval.runs.metric_keys import BY_NAME, SORTABLE, format_value

if TYPE_CHECKING:
    from dspy_logeval.runs.compare import Comparison
    from dspy_logeval.runs.folder import RunFolder

RunsDirOpt = Annotated[Path, typer.Option("--runs-dir", help="Where run folders live.", hidden=True)]
TABLE_COLUMNS = ("run_id", "model_name", "program", "prompt_template", "dataset_version", "n_samples",
                 "accuracy", "best_floor_accuracy", "lift_accuracy", "composite", "severity_accuracy",
                 "avg_latency_ms", "p95_latency_ms", "total_tokens", "cost_usd")


def _leaderboard_path(runs_dir: Path) -> Path:
    # The default runs dir keeps the configured leaderboard; another one's sits beside it, as the runner
    # writes it.
    return LEADERBOARD_PATH if runs_dir == RUNS_DIR else runs_dir.parent / "leaderboard.json"


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    key = BY_NAME.get(column)
    return format_value(value, key.unit) if key else ("" if value is None else str(value))


def leaderboard_table(rows: Sequence[Mapping[str, Any]], *, title: str) -> Table:
    """A rich table of leaderboard rows."""
    table = Table(*TABLE_COLUMNS, title=title)
    for row in rows:
        table.add_row(*(_cell(row, c) for c in TABLE_COLUMNS))
    return table


def comparison_table(result: Comparison) -> Table:
    """A rich table of a comparison's metric deltas."""
    table = Table("metric", "A", "B", "B − A", "95% paired CI", title=f"{result.run_b} vs {result.run_a}")
    for row in result.table_rows():
        table.add_row(*row)
    return table


def compare_command(
    run_a: Annotated[str, typer.Argument(help="Baseline run: id, unique prefix/suffix, folder or 'latest'.")],
    run_b: Annotated[str, typer.Argument(help="Candidate run, compared against RUN_A.")],
    force: Annotated[bool, typer.Option(help="Compare even when the runs used different datasets.")] = False,
    markdown: Annotated[bool, typer.Option(help="Print the comparison as markdown.")] = False,
    fail_on: Annotated[Literal["worse"] | None, typer.Option(
        help="Exit 3 when the verdict is 'worse' (RUN_B significantly worse than RUN_A), for CI.")] = None,
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Compare RUN_B against RUN_A on their shared samples: deltas with CIs, McNemar, verdict.

    Exit codes: 0 done (with --fail-on worse: not worse), 1 error, 3 --fail-on worse and the verdict is worse.
    """
    from dspy_logeval.runs.folder import resolve_run

    with reported_errors():
        a, b = resolve_run(run_a, runs_dir), resolve_run(run_b, runs_dir)  # a typo fails before the heavy imports
        from dspy_logeval.runs import compare

        result = compare.compare_runs(a, b, force=force)
    if markdown:
        typer.echo(result.to_markdown())
    else:
        print_comparison(result)
    if fail_on == "worse" and result.verdict == "worse":
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
    sort: Annotated[str, typer.Option(help=f"Rank by: {', '.join(SORTABLE)}.")] = "composite",
    limit: Annotated[int | None, typer.Option(help="Show only the best N runs.", min=1)] = None,
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Rebuild leaderboard.json and leaderboard.html from every scored run and print the ranking."""
    from dspy_logeval.runs import leaderboard

    out = _leaderboard_path(runs_dir)
    with reported_errors():
        rows = leaderboard.sort_rows(leaderboard.rebuild_leaderboard(runs_dir, out), sort)
        leaderboard.write_leaderboard_html(rows, out.with_suffix(".html"))
    console.print(leaderboard_table(rows[:limit] if limit else rows, title=f"Leaderboard by {sort}"))
    typer.echo(f"{len(rows)} runs; wrote {out} and {out.with_suffix('.html')}")


def report_command(
    run: Annotated[str, typer.Argument(help="Run id, unique prefix/suffix, folder or 'latest'.")],
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Recompute metrics.json, summary.md and report.html of RUN from its results.jsonl."""
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
    fmt: Annotated[Literal["prometheus", "json"], typer.Option("--format", help="Output format.")] = (
        "prometheus"),
    push_gateway: Annotated[str | None, typer.Option(
        help="Pushgateway URL; each run is PUT to its own group (job/logeval/experiment/ID/run/RUN_ID).")] = None,
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Print run metrics as Prometheus text exposition or JSON, or push them to a Pushgateway."""
    from dspy_logeval.runs import prometheus

    with reported_errors():
        runs = _select_runs(None if latest and not run else run, all_runs=all_runs, runs_dir=runs_dir)
        text = prometheus.render_json(runs) if fmt == "json" else prometheus.render_prometheus(runs)
        if push_gateway:
            if fmt != "prometheus":
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
