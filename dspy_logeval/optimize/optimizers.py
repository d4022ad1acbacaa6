"""The optimizers `logeval optimize` wraps (never subclasses): BootstrapFewShot, its random search, LabeledFewShot,
MIPROv2 — and a metric wrapper that reports bootstrapping progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dspy

from dspy_logeval.core.errors import ConfigError
from programs.knn import KNN

OPTIMIZERS = ("bootstrap", "random-search", "labeled", "knn", "mipro")
Notify = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class OptimizeOptions:
    """What `logeval optimize` was asked for (recorded in the manifest)."""

    optimizer: str = "bootstrap"
    max_bootstrapped_demos: int = 2
    max_labeled_demos: int = 2
    max_rounds: int = 1
    threshold: float | None = None
    seed: int = 7
    num_candidates: int = 4
    train_limit: int | None = None
    test_limit: int | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; available: {', '.join(OPTIMIZERS)}")
        if self.max_bootstrapped_demos < 0 or self.max_labeled_demos < 0 or self.max_rounds < 1:
            raise ConfigError("demo counts must be >= 0 and --max-rounds >= 1")


class ProgressMetric:
    """The composite metric, counting bootstrap attempts and passes for the progress display."""

    def __init__(self, metric: Callable[..., Any], notify: Notify, *, total: int, wanted: int) -> None:
        self.metric, self.notify, self.total, self.wanted = metric, notify, total, wanted
        self.evaluated = self.passed = 0

    def __call__(self, example: dspy.Example, pred: dspy.Prediction, trace: object | None = None) -> Any:
        result = self.metric(example, pred, trace)
        if trace is not None:
            self.evaluated += 1
            self.passed += bool(result)
            self.notify("bootstrap", {"evaluated": self.evaluated, "passed": self.passed, "total": self.total,
                                      "wanted": self.wanted})
        return result


def compile_program(student: dspy.Module, options: OptimizeOptions, *, trainset: list[dspy.Example],
                    valset: list[dspy.Example], metric: Callable[..., Any], teacher_lm: dspy.BaseLM | None,
                    notify: Notify) -> dspy.Module:
    """Run the chosen optimizer; the LM and adapter come from the caller's dspy.context."""
    teacher_settings = {"lm": teacher_lm} if teacher_lm is not None else None
    tracked = ProgressMetric(metric, notify, total=len(trainset), wanted=options.max_bootstrapped_demos)
    demos = {"max_bootstrapped_demos": options.max_bootstrapped_demos,
             "max_labeled_demos": options.max_labeled_demos}
    if options.optimizer == "knn":
        # Like dspy.KNNFewShot (labeled neighbours as demos per input), but a program DSPy can save and reload.
        signature = student.predictors()[-1].signature
        return KNN(signature).with_pool(trainset, k=options.max_labeled_demos)
    if options.optimizer == "labeled":
        return dspy.LabeledFewShot(k=options.max_labeled_demos).compile(student, trainset=trainset, sample=False)
    if options.optimizer == "bootstrap":
        optimizer = dspy.BootstrapFewShot(metric=tracked, teacher_settings=teacher_settings,
                                          max_rounds=options.max_rounds, **demos)
        return optimizer.compile(student, trainset=trainset)
    if options.optimizer == "random-search":
        search = dspy.BootstrapFewShotWithRandomSearch(
            metric=tracked, teacher_settings=teacher_settings, max_rounds=options.max_rounds,
            num_candidate_programs=options.num_candidates, num_threads=1, **demos)
        return search.compile(student, trainset=trainset, valset=valset)
    mipro = dspy.MIPROv2(metric=tracked, teacher_settings=teacher_settings, auto="light", num_threads=1,
                         seed=options.seed, **demos)
    return mipro.compile(student, trainset=trainset, valset=valset, requires_permission_to_run=False)
