"""`logeval optimize` and `logeval sweep`."""

from __future__ import annotations

import glob as globlib
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dspy_logeval.cli.common import BY_COMPOSITE, ProgramChoice, SortChoice, console, reported_errors
from dspy_logeval.cli.render import EvalProgress, print_run
from dspy_logeval.cli.runs import leaderboard_table, print_comparison
from dspy_logeval.core.errors import ConfigError
from dspy_logeval.core.paths import COMPILED_DIR, CONFIGS_DIR, RUNS_DIR

DEFAULT_MAX_ATTEMPTS = 20
"""Teacher attempts bootstrapping may spend by default: enough for a few demos from a teacher that passes one in
five, and it keeps `optimize` on the 135M model near 15 minutes on 2 cores (docs/results.md)."""


class OptimizerChoice(str, Enum):
    bootstrap = "bootstrap"
    random_search = "random-search"
    labeled = "labeled"
    knn = "knn"
    mipro = "mipro"


ConfigArg = Annotated[Path | None, typer.Argument(help="Experiment YAML (default: configs/cot-smollm2.yaml).",
                                                  show_default=False)]


class _OptimizeProgress:
    """Shows the phase, bootstrapped demos found so far, the metric pass rate and elapsed time."""

    def __init__(self) -> None:
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console)
        self.task = self.progress.add_task("compile", total=None, info="")

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "bootstrap":
            rate = info["passed"] / max(info["evaluated"], 1)
            text = f"demos {min(info['passed'], info['wanted'])}/{info['wanted']}, pass {rate:.0%}"
            self.progress.update(self.task, description="bootstrap", total=info["total"],
                                 completed=info["evaluated"], info=text)
            if not console.is_terminal and info["evaluated"] % 10 == 0:  # no live bar in CI logs
                console.print(f"bootstrap: {info['evaluated']}/{info['total']} train examples, {text}")
        else:
            self.progress.console.print(f"[bold]{phase}[/] " + " ".join(f"{k}={v}" for k, v in info.items()))

    def __enter__(self) -> _OptimizeProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def optimize_command(
    config: ConfigArg = None,
    program: Annotated[ProgramChoice | None, typer.Option(help="The program to compile (default: the config's).")
                       ] = None,
    optimizer: Annotated[OptimizerChoice, typer.Option(help="The DSPy optimizer (knn: nearest train demos per input).")
                         ] = OptimizerChoice.bootstrap,
    max_bootstrapped_demos: Annotated[int, typer.Option(help="Demos the teacher must get right.", min=0)] = 2,
    max_labeled_demos: Annotated[int, typer.Option(help="Labeled train examples added as demos.", min=0)] = 2,
    max_rounds: Annotated[int, typer.Option(help="Bootstrap rounds.", min=1)] = 1,
    teacher: Annotated[Path | None, typer.Option(help="Config whose model is the teacher (e.g. a 3B).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Composite a demo must also reach, on top of the config's "
                                                         "metrics.bootstrap_pass fields.", min=0.0, max=1.0)] = None,
    max_attempts: Annotated[int | None, typer.Option(help="Stop bootstrapping after N teacher attempts.", min=1)
                            ] = DEFAULT_MAX_ATTEMPTS,
    max_minutes: Annotated[float | None, typer.Option(help="Stop bootstrapping after this many minutes.", min=0.1)
                           ] = None,
    seed: Annotated[int, typer.Option(help="Orders the train split, so it decides the demos.")] = 7,
    num_candidates: Annotated[int, typer.Option(help="Candidate programs (random-search); instruction and demo "
                                                     "sets (mipro).", min=1)] = 4,
    num_trials: Annotated[int, typer.Option(help="MIPROv2 trials, each scoring a candidate on dev.", min=1)] = 4,
    train_limit: Annotated[int | None, typer.Option(help="Use only N train examples (small budgets).", min=1)] = None,
    test_limit: Annotated[int | None, typer.Option(help="Score only N test samples.", min=1)] = None,
    runs_dir: Annotated[Path, typer.Option(hidden=True)] = RUNS_DIR,
    compiled_dir: Annotated[Path, typer.Option(hidden=True)] = COMPILED_DIR,
) -> None:
    """Compile a program on the train split through the composite metric and compare it with the baseline on test.

    Example: logeval optimize configs/cot-smollm2.yaml --program cot --teacher configs/predict-qwen15.yaml
    """
    from dspy_logeval.core.config import load_config, validate_config
    from dspy_logeval.optimize.compile import OptimizeOptions, optimize_program

    with reported_errors():
        cfg = load_config(config or CONFIGS_DIR / "cot-smollm2.yaml")
        if program:
            cfg = validate_config({**cfg.model_dump(mode="json"), "program": program.value}, source="--program")
        options = OptimizeOptions(optimizer=optimizer.value, max_bootstrapped_demos=max_bootstrapped_demos,
                                  max_labeled_demos=max_labeled_demos, max_rounds=max_rounds, threshold=threshold,
                                  seed=seed, num_candidates=num_candidates, num_trials=num_trials,
                                  train_limit=train_limit,
                                  test_limit=test_limit, max_attempts=max_attempts, max_minutes=max_minutes)
        teacher_cfg = load_config(teacher) if teacher else None
        with _OptimizeProgress() as progress:
            result = optimize_program(cfg, options=options, runs_dir=runs_dir, compiled_dir=compiled_dir,
                                      teacher=teacher_cfg, progress=progress)
    print_run(result.compiled_run.metrics(), title=f"compiled: {result.compiled_run.run_id}")
    reused = " (reused)" if result.baseline_reused else ""
    typer.echo(f"baseline: {result.baseline.path}{reused}\ncompiled: {result.compiled_run.path}\n"
               f"saved program: {result.compiled_path} ({result.manifest['demos']} demos)")
    print_comparison(result.comparison)


def sweep_command(
    configs: Annotated[list[Path] | None, typer.Argument(help="Experiment YAML files, run in order.")] = None,
    glob: Annotated[str | None, typer.Option(help="Also run every config matching this glob.")] = None,
    limit: Annotated[int | None, typer.Option(help="Score only the first N samples of each.", min=1)] = None,
    sort: Annotated[SortChoice, typer.Option(help="Leaderboard column to rank the slice by.")
                    ] = BY_COMPOSITE,
    runs_dir: Annotated[Path, typer.Option(hidden=True)] = RUNS_DIR,
) -> None:
    """Run several experiments in sequence, then print the leaderboard rows of this sweep.

    Example: logeval sweep --glob 'configs/*-smollm2*.yaml' --limit 20 --sort accuracy
    """
    from dspy_logeval.core.config import load_config
    from dspy_logeval.eval.runner import EvalRequest, evaluate_experiment
    from dspy_logeval.runs.leaderboard import rebuild_leaderboard, sort_rows

    with reported_errors():
        paths = list(configs or []) + [Path(p) for p in sorted(globlib.glob(glob or ""))]
        if not paths:
            raise ConfigError("give config files or --glob 'configs/*.yaml'")
        loaded = [load_config(p) for p in paths]  # validate all before the first model starts
        run_ids = []
        for cfg in loaded:
            with EvalProgress(description=cfg.experiment_id) as progress:
                run = evaluate_experiment(cfg, runs_dir=runs_dir, request=EvalRequest(limit=limit), progress=progress)
            run_ids.append(run.run_id)
            print_run(run.metrics(), title=run.run_id)
        rows = rebuild_leaderboard(runs_dir, runs_dir.parent / "leaderboard.json")
        mine = sort_rows([r for r in rows if r["run_id"] in run_ids], sort.value)
    console.print(leaderboard_table(mine, title=f"sweep: {len(mine)} runs by {sort.value}"))


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize_command)
    app.command("sweep")(sweep_command)
