"""`logeval export | promote | prompts | serve`: the way from a run to production traffic."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from dspy_logeval.cli.common import ProgramChoice, SplitChoice, console, reported_errors
from dspy_logeval.core.errors import ConfigError, ServeError
from dspy_logeval.core.paths import LEADERBOARD_PATH, PROMPTS_DIR, RUNS_DIR

if TYPE_CHECKING:
    from dspy_logeval.core.config import ModelConfig
    from dspy_logeval.export.parity import ParityReport

PromptsDirOpt = Annotated[Path, typer.Option("--prompts-dir", help="Where prompt artifacts live.", hidden=True)]
RunsDirOpt = Annotated[Path, typer.Option("--runs-dir", help="Where run folders live.", hidden=True)]
DatasetOpt = Annotated[str | None, typer.Option(help="Dataset version or samples.json (default: the source's).")]
SplitOpt = Annotated[SplitChoice, typer.Option(help="The split to compare on.")]
LimitOpt = Annotated[int | None, typer.Option(help="Score only the first N samples.", min=1)]
EndpointOpt = Annotated[str | None, typer.Option(help="'embedded' or an OpenAI-compatible URL (default: config's).")]


def export_command(
    source: Annotated[str | None, typer.Argument(help="Run id (or folder) or a compiled program .json.")] = None,
    name: Annotated[str, typer.Option(help="Artifact name: writes artifacts/prompts/NAME.json.")] = "",
    template: Annotated[str | None, typer.Option(help="Export a bare template instead of a run.")] = None,
    program: Annotated[ProgramChoice, typer.Option(help="Program for --template (one request per sample: predict "
                                                        "or cot).")] = ProgramChoice.predict,
    config: Annotated[Path | None, typer.Option(help="Sampling/model config for --template.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing NAME (its version goes up by one).")] = False,
    verify: Annotated[bool, typer.Option(help="Run DSPy and the production analyzer side by side (temp 0); exit 3 "
                                              "when under 99% of predictions are identical.")] = False,
    dataset: DatasetOpt = None,
    split: SplitOpt = SplitChoice.test,
    limit: LimitOpt = None,
    endpoint: EndpointOpt = None,
    prompts_dir: PromptsDirOpt = PROMPTS_DIR,
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Export a run's (or a compiled or template) program as a prompt artifact for the production analyzer.

    Example: logeval export 20261205-102905-predict-smollm2 --name predict-smollm2 --verify --limit 5
    """
    from dspy_logeval.export import artifact as export
    from dspy_logeval.export.parity import REQUIRED_IDENTICAL, record_parity, verify_parity

    if not name:
        raise typer.BadParameter("give the artifact a name", param_hint="--name")
    with reported_errors():
        src = export.resolve_source(source, template=template, runs_dir=runs_dir, program=program.value,
                                     config=config)
        artifact, path = export.export_prompt(src, name=name, prompts_dir=prompts_dir, force=force)
        typer.echo(f"wrote {path} ({artifact.name} v{artifact.version}, {len(artifact.messages)} messages, "
                   f"{len(artifact.demos)} demos)")
        if verify:
            report = verify_parity(src, artifact, dataset=dataset, split=split.value, limit=limit,
                                   endpoint=endpoint)
            _print_parity(report)
            record_parity(artifact, report, prompts_dir, split=split.value, limit=limit,
                          dataset=dataset or src.config.dataset.version)
            if not report.passed:
                typer.secho(f"error: parity failed: {report.identical}/{report.n} predictions identical, under the "
                            f"{REQUIRED_IDENTICAL:.0%} an export needs (recorded in {path.name}); do not ship it",
                            fg=typer.colors.RED, err=True)
                raise typer.Exit(3)


def _print_parity(report: ParityReport) -> None:
    table = Table("metric", "DSPy", "production", "difference", title="parity at temperature 0")
    for key, diff in report.differences().items():
        table.add_row(key, f"{report.metrics_dspy[key]:.3f}", f"{report.metrics_production[key]:.3f}",
                      f"{diff:+.3f}")
    console.print(table)
    for miss in report.mismatches[:5]:
        typer.echo(f"differs: {miss['sample_id']}: dspy={miss['dspy']} production={miss['production']}")
    typer.echo(f"identical predictions: {report.identical}/{report.n} ({report.identical_share:.1%})")


def promote_command(
    name: Annotated[str, typer.Argument(help="Prompt artifact to serve in production.")],
    force: Annotated[bool, typer.Option(help="Promote even when it scored worse than production, or cannot be "
                                             "compared (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option(help="Why --force: recorded with who and when in the production "
                                                    "pointer's history.")] = None,
    prompts_dir: PromptsDirOpt = PROMPTS_DIR,
    runs_dir: RunsDirOpt = RUNS_DIR,
) -> None:
    """Point production (artifacts/prompts/production.json) at prompt NAME, unless it scored significantly worse.

    The two prompts' source runs are compared as `logeval compare` does (same dataset, shared samples).

    Example: logeval promote predict-smollm2
    """
    if force and not reason:
        raise typer.BadParameter("--force needs --reason TEXT (it is recorded)", param_hint="--reason")
    from dspy_logeval.export.promotion_check import promote_checked

    with reported_errors():
        pointer, check = promote_checked(name, prompts_dir=prompts_dir, runs_dir=runs_dir, force=force,
                                         reason=reason)
    typer.echo(f"check: {check.outcome}")
    if check.refusal:
        typer.secho(f"forced: {check.refusal} (reason: {reason})", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"production → {pointer['name']} v{pointer['version']} (source run {pointer['source_run']}, "
               f"by {pointer['promoted_by']})")


def prompts_command(prompts_dir: PromptsDirOpt = PROMPTS_DIR) -> None:
    """List prompt artifacts with their test metrics; * marks the one in production.

    Example: logeval prompts
    """
    from dspy_logeval.serve.promotion import list_prompts

    with reported_errors():
        rows = list_prompts(prompts_dir)
    table = Table("", "name", "version", "source run", "composite", "accuracy", "n", "created", title="prompts")
    table.columns[3].no_wrap = True  # a full run id, never cut
    for row in rows:
        m = row.test_metrics
        table.add_row("*" if row.production else "", row.name, str(row.version or "-"), row.source_run or "-",
                      _num(m.get("composite")), _num(m.get("root_cause_exact_match")), str(m.get("n_samples", "-")),
                      row.problem or row.created)
    console.print(table)
    if not rows:
        typer.echo(f"no prompt artifacts in {prompts_dir}: create one with `logeval export RUN_ID --name NAME`")


def _num(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


def serve_command(
    prompt: Annotated[str | None, typer.Option(help="Prompt artifact (default: the promoted one).")] = None,
    endpoint: Annotated[str, typer.Option(help="'embedded' or the LM's OpenAI-compatible URL.")] = "embedded",
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 lets anyone on the network call it "
                                           "(set LOGEVAL_API_TOKEN).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    api_key_env: Annotated[str | None, typer.Option(help="Environment variable holding the LM endpoint's API key "
                                                         "(sent as a bearer token; never printed).")] = None,
    max_lines: Annotated[int, typer.Option(help="Log lines per request.", min=1)] = 200,
    max_chars: Annotated[int, typer.Option(help="Rendered log characters per request.", min=1)] = 64_000,
    max_body_bytes: Annotated[int, typer.Option(help="Request body size.", min=1)] = 1 << 20,
    prompts_dir: PromptsDirOpt = PROMPTS_DIR,
    leaderboard: Annotated[Path, typer.Option(help="leaderboard.json to serve.", hidden=True)] = LEADERBOARD_PATH,
) -> None:
    """Serve the production analyzer API (/v1/analyze, /health, /metrics, /api/evals/leaderboard).

    Example: logeval serve --endpoint http://localhost:8080 --port 8000

    When LOGEVAL_API_TOKEN is set, /v1/analyze and the leaderboard need `Authorization: Bearer <token>`.
    """
    from dspy_logeval.core.redact import install_log_redaction, redact_url
    from dspy_logeval.lm.server import ensure_port_free
    from dspy_logeval.serve.api import Limits, create_app
    from dspy_logeval.serve.promotion import production_artifact
    from dspy_logeval.serve.prompt_artifact import load_artifact
    from dspy_logeval.serve.session import served_analyzer

    install_log_redaction()
    with reported_errors():
        ensure_port_free(port, host)  # before the LM loads: a taken port is one line, not a traceback after minutes
        artifact = load_artifact(prompt, prompts_dir) if prompt else production_artifact(prompts_dir)
        model = _model_config(endpoint, artifact.model, api_key_env=api_key_env)
        with served_analyzer(artifact, model, timeout=180.0, retries=2) as (analyzer, lm):
            app = create_app(analyzer, artifact.meta(), leaderboard_path=leaderboard, lm_guard=lm.supervisor,
                             limits=Limits(max_body_bytes=max_body_bytes, max_lines=max_lines, max_chars=max_chars))
            typer.echo(f"serving {artifact.name} v{artifact.version} on http://{host}:{port} "
                       f"(LM at {redact_url(analyzer.llm_url)})")
            _run_uvicorn(app, host=host, port=port)


def _run_uvicorn(app: object, *, host: str, port: int) -> None:
    import uvicorn

    try:
        uvicorn.run(app, host=host, port=port, log_level="info")  # type: ignore[arg-type]
    except SystemExit as exc:  # uvicorn exits 3 when it cannot bind (the port was taken after our check)
        if exc.code not in (None, 0):
            raise ServeError(f"the API could not start on {host}:{port} (uvicorn exit code {exc.code}; "
                             "its log line above says why): pick another --port or --host") from None


def _model_config(endpoint: str, name: str, *, api_key_env: str | None = None) -> ModelConfig:
    from pydantic import ValidationError

    from dspy_logeval.core.config import ModelConfig
    try:
        return ModelConfig(endpoint=endpoint, name=name, api_key_env=api_key_env)
    except ValidationError as exc:
        raise ConfigError(f"--endpoint {endpoint!r}: {exc.errors()[0]['msg']}") from None


def register(app: typer.Typer) -> None:
    """Add export, promote, prompts and serve to APP."""
    app.command("export")(export_command)
    app.command("promote")(promote_command)
    app.command("prompts")(prompts_command)
    app.command("serve")(serve_command)
