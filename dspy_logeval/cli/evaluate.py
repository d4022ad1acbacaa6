"""`logeval evaluate`: score a program on the golden set and write a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from dspy_logeval.core.config import ExperimentConfig

from dspy_logeval.cli.common import console, reported_errors
from dspy_logeval.core.paths import PROMPTS_DIR, RUNS_DIR

ConfigArg = Annotated[Path | None, typer.Argument(
    help="Experiment YAML (configs/<id>.yaml or its id); default: configs/baseline-smollm2-t01.yaml.",
    show_default=False)]
RunsDirOpt = Annotated[Path, typer.Option("--runs-dir", help="Where run folders go.", hidden=True)]


def _with_overrides(config: ExperimentConfig, *, program: str | None) -> ExperimentConfig:
    from dspy_logeval.core.config import validate_config

    if program is None:
        return config
    return validate_config({**config.model_dump(mode="json"), "program": program}, source="--program")


def evaluate_command(
    config: ConfigArg = None,
    program: Annotated[str | None, typer.Option(help="Override the program: predict, cot, fewshot, knn.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset version (golden-v1) or a samples.json path.")] = None,
    split: Annotated[str | None, typer.Option(help="all, train, dev or test (default: the config's).")] = None,
    limit: Annotated[int | None, typer.Option(help="Score only the first N samples.", min=1)] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight (default: the config's).", min=1)] = None,
    cache: Annotated[bool, typer.Option(help="Reuse DSPy's cached answers (off for timed runs).")] = False,
    resume: Annotated[str | None, typer.Option(help="Continue an interrupted run (run id or folder).")] = None,
    compiled: Annotated[Path | None, typer.Option(help="Score a saved compiled program (artifacts/compiled/*.json).")
                        ] = None,
    analyzer: Annotated[str, typer.Option(help="dspy (the program) or production (LogAnalyzer on --prompt).")
                        ] = "dspy",
    prompt: Annotated[str | None, typer.Option(help="Prompt artifact for --analyzer production.")] = None,
    runs_dir: RunsDirOpt = RUNS_DIR,
    prompts_dir: Annotated[Path, typer.Option("--prompts-dir", hidden=True)] = PROMPTS_DIR,
) -> None:
    """Score a program on the golden set and write a run folder (config, results, metrics, report)."""
    from dspy_logeval.cli.render import EvalProgress, metrics_table
    from dspy_logeval.core.config import load_config, validate_config
    from dspy_logeval.eval.compiled import load_compiled
    from dspy_logeval.eval.runner import EvalRequest, evaluate_experiment
    from dspy_logeval.runs.folder import resolve_run

    if split is not None and split not in ("all", "train", "dev", "test"):
        raise typer.BadParameter("must be all, train, dev or test", param_hint="--split")
    if analyzer not in ("dspy", "production") or (analyzer == "production") != (prompt is not None):
        raise typer.BadParameter("use --analyzer production together with --prompt NAME", param_hint="--analyzer")
    if prompt is not None:
        _evaluate_production(prompt, dataset=dataset, split=split, limit=limit, runs_dir=runs_dir,
                             prompts_dir=prompts_dir)
        return
    with reported_errors():
        previous = resolve_run(resume, runs_dir) if resume else None
        cfg = (validate_config(previous.config()["config"], source=str(previous.path)) if previous
               else _with_overrides(load_config(config), program=program))
        module, lineage = None, (previous.config().get("lineage") if previous else None)
        if lineage and lineage.get("compiled"):  # resuming a compiled run: score the same compiled program
            module, _ = load_compiled(Path(lineage["compiled"]))
        elif compiled is not None:
            module, manifest = load_compiled(compiled)
            base = load_config(config) if config else validate_config(manifest["config"], source=str(compiled))
            cfg = base.model_copy(update={"experiment_id": f"{base.experiment_id}-compiled"})
            lineage = {"compiled": str(compiled), "compiled_from": manifest["config"]["experiment_id"]}
        recorded = previous.config()["dataset"] if previous else {}
        request = EvalRequest(split=split or recorded.get("split"), dataset=dataset or recorded.get("path"),
                              limit=limit or recorded.get("limit"), concurrency=concurrency, cache=cache)
        with EvalProgress(description=cfg.experiment_id) as progress:
            run = evaluate_experiment(cfg, runs_dir=runs_dir, request=request, progress=progress, resume=previous,
                                      program=module, lineage=lineage)
    console.print(metrics_table(run.metrics(), title=f"{cfg.experiment_id} on {run.config()['dataset']['version']}"))
    typer.echo(f"run folder: {run.path}")


def _evaluate_production(prompt: str, *, dataset: str | None, split: str | None, limit: int | None,
                         runs_dir: Path, prompts_dir: Path) -> None:
    from dspy_logeval.cli.render import metrics_table
    from dspy_logeval.eval.production import evaluate_production
    from dspy_logeval.serve.prompt_artifact import load_artifact

    with reported_errors():
        artifact = load_artifact(prompt, prompts_dir)
        run = evaluate_production(artifact, runs_dir=runs_dir, dataset=dataset, split=split or "test", limit=limit)
    console.print(metrics_table(run.metrics(), title=f"production {artifact.name} v{artifact.version}"))
    typer.echo(f"run folder: {run.path}")


def register(app: typer.Typer) -> None:
    """Add evaluate to APP."""
    app.command("evaluate")(evaluate_command)
