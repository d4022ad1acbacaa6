"""`logeval gate RUN`: thresholds and a reference test for CI; exit 0 pass, 1 error, 3 gate failed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dspy_logeval.cli.common import GATE_FAILED, reported_errors
from dspy_logeval.core.paths import PROMPTS_DIR, RUNS_DIR

if TYPE_CHECKING:
    from dspy_logeval.runs.gate import GateResult

RunsDirOpt = Annotated[Path, typer.Option("--runs-dir", help="Where run folders live.", hidden=True)]
PromptsDirOpt = Annotated[Path, typer.Option("--prompts-dir", help="Where prompt artifacts live.", hidden=True)]


def gate_command(
    run: Annotated[str, typer.Argument(help="Run to gate: id, unique prefix/suffix, folder or 'latest'.")],
    against: Annotated[str | None, typer.Option(
        help="Fail when RUN is significantly worse (paired test, as compare) than: 'production' (the run that "
             "scored the promoted prompt; when that run is not here, unpaired against the composite its artifact "
             "recorded), 'baseline' (newest uncompiled run of the same config and dataset) or a run id. "
             "Default: the config's gate.against.")] = None,
    min_: Annotated[list[str] | None, typer.Option(
        "--min", help="NAME=VALUE: fail when metric NAME is below VALUE (names: `logeval leaderboard --help`).")
                    ] = None,
    max_: Annotated[list[str] | None, typer.Option(
        "--max", help="NAME=VALUE: fail when metric NAME is above VALUE, e.g. p95_latency_ms=9000.")] = None,
    runs_dir: RunsDirOpt = RUNS_DIR,
    prompts_dir: PromptsDirOpt = PROMPTS_DIR,
) -> None:
    """Check RUN against thresholds (and a reference run) and exit 0 pass, 1 error, 3 gate failed.

    Thresholds from the run's config (gate: {min, max, against}) apply too; --min/--max override them by name.

    Example: logeval gate latest --against production --min composite=0.3 --max p95_latency_ms=9000
    """
    with reported_errors():
        from dspy_logeval.runs.folder import resolve_run
        from dspy_logeval.runs.gate import PRODUCTION, gate_run, merged_thresholds, reference_run

        folder = resolve_run(run, runs_dir)
        gate_config = folder.config().config.gate
        thresholds = merged_thresholds(gate_config, mins=min_ or [], maxs=max_ or [])
        against = against or (gate_config.against if gate_config else None)
        reference = None
        if against:
            production = _production(prompts_dir) if against == PRODUCTION else None
            reference = reference_run(against, folder, runs_dir=runs_dir, production=production)
        result = gate_run(folder, thresholds=thresholds, reference=reference,
                          reference_label=against if against in ("production", "baseline") else "run")
    _print_gate(result)
    if not result.passed:
        raise typer.Exit(code=GATE_FAILED)


def _production(prompts_dir: Path) -> dict[str, Any]:
    from dspy_logeval.serve.promotion import production_provenance

    return production_provenance(prompts_dir)


def _print_gate(result: GateResult) -> None:
    for warning in result.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    for check in result.checks:
        status = "pass" if check.passed else "FAIL"
        typer.echo(f"{status}  {check.name}: {check.value} (threshold {check.threshold})")
    failed = result.failed
    if failed:
        typer.secho(f"gate FAILED for {result.run_id}: {len(failed)} of {len(result.checks)} checks failed "
                    f"({', '.join(c.name for c in failed)})", fg=typer.colors.RED)
    else:
        typer.echo(f"gate passed for {result.run_id}: {len(result.checks)} checks")


def register(app: typer.Typer) -> None:
    """Add gate to APP."""
    app.command("gate")(gate_command)
