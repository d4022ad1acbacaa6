"""`logeval evaluate`: score a program on the golden set and write a run folder (parse → resolve → evaluate →
print)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dspy_logeval.cli.common import ProgramChoice, SplitChoice, reported_errors
from dspy_logeval.core.paths import PROMPTS_DIR, RUNS_DIR


class AnalyzerChoice(str, Enum):
    dspy = "dspy"
    production = "production"


ConfigArg = Annotated[Path | None, typer.Argument(
    help="Experiment YAML (configs/<id>.yaml or its id); default: configs/baseline-smollm2-t01.yaml.",
    show_default=False)]
RunsDirOpt = Annotated[Path, typer.Option("--runs-dir", help="Where run folders go.", hidden=True)]


def evaluate_command(
    config: ConfigArg = None,
    program: Annotated[ProgramChoice | None, typer.Option(help="Override the config's program.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset version (golden-v2) or a samples.json path.")] = None,
    split: Annotated[SplitChoice | None, typer.Option(help="Split to score (default: the config's).")] = None,
    limit: Annotated[int | None, typer.Option(help="Score only the first N samples.", min=1)] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight (default: the config's).", min=1)] = None,
    cache: Annotated[bool, typer.Option(help="Reuse DSPy's cached answers (off for timed runs).")] = False,
    resume: Annotated[str | None, typer.Option(help="Continue an interrupted run (run id or folder).")] = None,
    compiled: Annotated[Path | None, typer.Option(help="Score a saved compiled program (artifacts/compiled/*.json).")
                        ] = None,
    analyzer: Annotated[AnalyzerChoice, typer.Option(help="dspy (the program) or production (LogAnalyzer on "
                                                          "--prompt).")] = AnalyzerChoice.dspy,
    prompt: Annotated[str | None, typer.Option(help="Prompt artifact to score through the production analyzer.")
                      ] = None,
    mlflow: Annotated[str | None, typer.Option(help="MLflow tracking URI to log the finished run to "
                                                    "(default: the config's tracking.mlflow).")] = None,
    runs_dir: RunsDirOpt = RUNS_DIR,
    prompts_dir: Annotated[Path, typer.Option("--prompts-dir", hidden=True)] = PROMPTS_DIR,
) -> None:
    """Score a program on the golden set and write a run folder (config, results, metrics, report).

    Example: logeval evaluate configs/cot-smollm2.yaml --limit 10
    """
    if analyzer is AnalyzerChoice.production and prompt is None:
        raise typer.BadParameter("--analyzer production needs --prompt NAME", param_hint="--analyzer")
    from dspy_logeval.core.config import load_config

    with reported_errors():
        if resume is None and compiled is None and prompt is None:
            load_config(config)  # a bad config fails in a blink, before the engine is imported
        from dspy_logeval.cli.render import EvalProgress, print_run
        from dspy_logeval.eval.resolve import recorded_request, resolve_target
        from dspy_logeval.eval.runner import EvalRequest, evaluate_experiment

        target = resolve_target(config, program=program.value if program else None, compiled=compiled,
                                prompt=prompt, resume=resume, runs_dir=runs_dir, prompts_dir=prompts_dir)
        rec_dataset, rec_split, rec_limit = recorded_request(target.resume) if target.resume else (None,) * 3
        request = EvalRequest(split=split.value if split else rec_split, dataset=dataset or rec_dataset,
                              limit=limit or rec_limit, concurrency=concurrency, cache=cache, mlflow=mlflow)
        with EvalProgress(description=target.config.experiment_id) as progress:
            run = evaluate_experiment(target.config, runs_dir=runs_dir, request=request, progress=progress,
                                      resume=target.resume, program=target.program, artifact=target.artifact,
                                      lineage=target.lineage)
    print_run(run.metrics(), title=f"{target.config.experiment_id} on {run.config().dataset.version}")
    typer.echo(f"run folder: {run.path}")
    typer.echo(f"report: {run.path / 'report.html'}")


def register(app: typer.Typer) -> None:
    """Add evaluate to APP."""
    app.command("evaluate")(evaluate_command)
