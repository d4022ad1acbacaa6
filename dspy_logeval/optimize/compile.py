"""optimize: compile a program on the train split through the composite metric, then score it against the baseline.

Reads as a script: load → compile (BootstrapFewShot by default) → save → evaluate compiled on test →
evaluate (or reuse) the baseline on test → compare.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dspy

from dspy_logeval.core.config import ExperimentConfig
from dspy_logeval.core.errors import ConfigError
from dspy_logeval.data.dataset import Dataset, load_dataset
from dspy_logeval.eval.compiled import save_compiled
from dspy_logeval.eval.examples import to_examples
from dspy_logeval.eval.runner import EvalRequest, build_program, evaluate_experiment, startup_check
from dspy_logeval.lm.dspy_lm import build_lm
from dspy_logeval.lm.endpoint import Endpoint, endpoint_record, open_endpoint
from dspy_logeval.optimize.optimizers import OPTIMIZERS, OptimizeOptions, compile_program
from dspy_logeval.runs.baseline import find_baseline
from dspy_logeval.runs.compare import Comparison, compare_runs
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.metric_keys import BY_NAME, HEADLINE, metric_value
from dspy_logeval.runs.record import Lineage
from dspy_logeval.runs.scoring import composite_metric

Phase = Callable[[str, dict[str, Any]], None]
"""Progress callback: (phase name, details such as evaluated/passed/total)."""


@dataclass
class OptimizeResult:
    compiled_path: Path
    manifest: dict[str, Any]
    baseline: RunFolder
    baseline_reused: bool
    compiled_run: RunFolder
    comparison: Comparison


def optimize_program(config: ExperimentConfig, *, options: OptimizeOptions, runs_dir: Path, compiled_dir: Path,
                     teacher: ExperimentConfig | None = None, lm: dspy.BaseLM | None = None,
                     teacher_lm: dspy.BaseLM | None = None, progress: Phase | None = None) -> OptimizeResult:
    """Compile CONFIG's program with OPTIONS on train, save it, and compare it with the baseline on test."""
    notify = progress or (lambda phase, info: None)
    started = time.monotonic()
    dataset = load_dataset(config.dataset.version)
    train, dev = _split_examples(dataset, options)
    student = build_program(config, dataset)
    threshold = options.threshold if options.threshold is not None else config.metrics.threshold
    metric = composite_metric(config.metrics.weights, threshold, must_be_right=config.metrics.bootstrap_pass)
    test = EvalRequest(split="test", limit=options.test_limit)
    with _endpoints(config, teacher, lm=lm, teacher_lm=teacher_lm) as (student_lm, teacher_lm_, endpoint, teacher_at):
        notify("compile", {"optimizer": options.optimizer, "train": len(train), "dev": len(dev),
                           "teacher": teacher.model.name if teacher else "the student itself"})
        with dspy.context(lm=student_lm, adapter=_adapter(), track_usage=False):
            result = compile_program(student, options, trainset=train, valset=dev, metric=metric,
                                     teacher_lm=teacher_lm_, notify=notify)
        compiled = result.program
        run_id = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{config.experiment_id}-{options.optimizer}"
        path = compiled_dir / f"{run_id}.json"
        manifest = _manifest(config, options, dataset, compiled, train=train, dev=dev, threshold=threshold) | {
            "bootstrap": {"attempts": result.attempts, "passed": result.passed,
                          "stopped_early": result.stopped_early, "pass_rule": list(config.metrics.bootstrap_pass),
                          "compile_seconds": round(time.monotonic() - started, 1)},
            "teacher": ({"config": teacher.model_dump(mode="json"), **teacher_at} if teacher else None)}
        save_compiled(compiled, path, manifest)
        notify("evaluate-compiled", {"path": str(path)})
        compiled_cfg = config.model_copy(update={"experiment_id": f"{config.experiment_id}-{options.optimizer}"})
        lineage = Lineage(compiled=str(path), compiled_from=config.experiment_id, optimizer=options.optimizer)
        compiled_run = evaluate_experiment(compiled_cfg, runs_dir=runs_dir, request=test, lm=lm, endpoint=endpoint,
                                           program=compiled, lineage=lineage)
        manifest |= {"test_run_id": compiled_run.run_id, "test_metrics": _headline(compiled_run.metrics())}
        save_compiled(compiled, path, manifest)
        n_test = len(dataset.split("test")[: options.test_limit] if options.test_limit else dataset.split("test"))
        baseline = find_baseline(config, runs_dir=runs_dir, sha256=dataset.sha256, limit=options.test_limit,
                                 n_samples=n_test)
        reused = baseline is not None
        if baseline is None:
            notify("evaluate-baseline", {})
            baseline = evaluate_experiment(config, runs_dir=runs_dir, request=test, lm=lm, endpoint=endpoint)
    comparison = compare_runs(baseline, compiled_run, seed=config.seed)
    manifest["wall_seconds"] = round(time.monotonic() - started, 1)  # compile + test runs, baseline included
    save_compiled(compiled, path, manifest)
    return OptimizeResult(path, manifest, baseline, reused, compiled_run, comparison)


def _adapter() -> dspy.Adapter:
    from dspy_logeval.lm.adapter import SchemaJSONAdapter

    return SchemaJSONAdapter()


def _split_examples(dataset: Dataset, options: OptimizeOptions) -> tuple[list[dspy.Example], list[dspy.Example]]:
    train = [s for s in dataset.samples if s.split == "train"]
    dev = [s for s in dataset.samples if s.split == "dev"]
    if not train:
        raise ConfigError(f"{dataset.path} has no train split: optimize needs a golden version with splits")
    random.Random(options.seed).shuffle(train)  # the seed decides which examples become demos, and in what order
    train = train[: options.train_limit] if options.train_limit else train
    needed = max(options.max_bootstrapped_demos, options.max_labeled_demos)
    if len(train) < needed:
        raise ConfigError(f"the train split has {len(train)} examples, fewer than the {needed} demos requested; "
                          "lower --max-bootstrapped-demos/--max-labeled-demos")
    if options.optimizer in ("random-search", "mipro") and not dev:
        raise ConfigError(f"{options.optimizer} selects on the dev split, and {dataset.path} has none")
    return to_examples(train), to_examples(dev)


@contextmanager
def _endpoints(config: ExperimentConfig, teacher: ExperimentConfig | None, *, lm: dspy.BaseLM | None,
               teacher_lm: dspy.BaseLM | None
               ) -> Iterator[tuple[dspy.BaseLM, dspy.BaseLM | None, Endpoint | None, dict[str, Any]]]:
    """(student LM, teacher LM, the student's endpoint, what the manifest records of the teacher's LM): two
    servers when the teacher is another model, each started and stopped with the command."""
    if lm is not None:
        yield lm, teacher_lm, None, {"endpoint": "injected" if teacher_lm is not None else None}
        return
    with open_endpoint(config.model) as endpoint:
        student = build_lm(endpoint, config.llm_config, config.runtime, api_key_env=config.model.api_key_env)
        if teacher is None:
            yield student, None, endpoint, {}
            return
        with open_endpoint(teacher.model) as teacher_endpoint:
            yield student, build_lm(teacher_endpoint, teacher.llm_config, teacher.runtime,
                                    api_key_env=teacher.model.api_key_env), endpoint, endpoint_record(
                                    teacher_endpoint, **startup_check(teacher))


def _manifest(config: ExperimentConfig, options: OptimizeOptions, dataset: Dataset, compiled: dspy.Module, *,
              train: list[dspy.Example], dev: list[dspy.Example], threshold: float | None) -> dict[str, Any]:
    demos = [d for name, p in compiled.named_predictors() if name != "pool" for d in p.demos]
    pool = [d for name, p in compiled.named_predictors() if name == "pool" for d in p.demos]
    by_logs = {e.logs: e.sample_id for e in train}  # bootstrapped traces keep the inputs, not the sample id
    program = "knn" if options.optimizer == "knn" else config.program
    return {"program": program, "template": config.prompt.template,
            "system_prompt": config.prompt.system_prompt, "optimizer": options.optimizer,
            "optimizer_params": {**asdict(options), "threshold": threshold},
            "demos": len(demos) or getattr(compiled, "k", 0), "retrieval_pool": len(pool),
            "demo_ids": [by_logs.get(d.get("logs")) for d in demos],
            "train_ids": [e.sample_id for e in train], "dev_ids": [e.sample_id for e in dev],
            "seed": options.seed, "dataset": {"version": dataset.version, "sha256": dataset.sha256},
            "config": config.model_dump(mode="json"), "created": datetime.now(timezone.utc).isoformat()}


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = (*(key for key in HEADLINE if key.ci or key.name == "n_samples"), BY_NAME["avg_latency_ms"])
    return {key.leaf: metric_value(metrics, key.path) for key in keys}


__all__ = ["OPTIMIZERS", "OptimizeOptions", "OptimizeResult", "find_baseline", "optimize_program"]
