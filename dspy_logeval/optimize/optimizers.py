"""The optimizers `logeval optimize` wraps (never subclasses): BootstrapFewShot, its random search, LabeledFewShot,
MIPROv2 — and a metric wrapper that reports bootstrapping progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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
    """random-search: candidate programs; mipro: instruction and demo-set candidates."""
    num_trials: int = 4
    """mipro: Bayesian search trials, each scoring one candidate program on the whole dev split."""
    train_limit: int | None = None
    test_limit: int | None = None
    max_attempts: int | None = None
    """Stop bootstrapping after this many teacher attempts (None: walk the whole train split)."""
    max_minutes: float | None = None
    """Stop bootstrapping after this much wall-clock time."""

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; available: {', '.join(OPTIMIZERS)}")
        if self.max_bootstrapped_demos < 0 or self.max_labeled_demos < 0 or self.max_rounds < 1:
            raise ConfigError("demo counts must be >= 0 and --max-rounds >= 1")
        if self.num_candidates < 1 or self.num_trials < 1:
            raise ConfigError("--num-candidates and --num-trials must be >= 1")
        if (self.max_attempts is not None and self.max_attempts < 1) or (
                self.max_minutes is not None and self.max_minutes <= 0):
            raise ConfigError("--max-attempts and --max-minutes must be positive")


class BootstrapBudget:
    """Attempts and wall-clock time bootstrapping may spend; says whether it ran out."""

    def __init__(self, *, max_attempts: int | None, max_minutes: float | None) -> None:
        self.max_attempts, self.max_seconds = max_attempts, (max_minutes * 60 if max_minutes else None)
        self.started = time.monotonic()
        self.stopped_early: str | None = None

    def spent(self, attempts: int) -> bool:
        if self.max_attempts is not None and attempts >= self.max_attempts:
            self.stopped_early = f"{attempts} attempts (--max-attempts {self.max_attempts})"
        elif self.max_seconds is not None and time.monotonic() - self.started >= self.max_seconds:
            self.stopped_early = f"{(time.monotonic() - self.started) / 60:.1f} min (--max-minutes)"
        return self.stopped_early is not None


class BudgetedTrainset(list[dspy.Example]):
    """The train split as BootstrapFewShot walks it: its first walk (the bootstrap loop) ends when the budget is
    spent; later walks (the labeled demos taken from what was not bootstrapped) see every example."""

    def __init__(self, examples: list[dspy.Example], budget: BootstrapBudget, metric: ProgressMetric) -> None:
        super().__init__(examples)
        self.budget, self.metric, self._walked = budget, metric, False

    def __iter__(self) -> Iterator[dspy.Example]:
        if self._walked:
            yield from super().__iter__()
            return
        self._walked = True
        for example in super().__iter__():
            if self.budget.spent(self.metric.evaluated):
                return
            yield example


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


@dataclass(frozen=True)
class Compiled:
    """A compiled program and what bootstrapping cost (recorded in the manifest)."""

    program: dspy.Module
    attempts: int
    passed: int
    stopped_early: str | None


def compile_program(student: dspy.Module, options: OptimizeOptions, *, trainset: list[dspy.Example],
                    valset: list[dspy.Example], metric: Callable[..., Any], teacher_lm: dspy.BaseLM | None,
                    notify: Notify) -> Compiled:
    """Run the chosen optimizer; the LM and adapter come from the caller's dspy.context."""
    tracked = ProgressMetric(metric, notify, total=len(trainset), wanted=options.max_bootstrapped_demos)
    budget = BootstrapBudget(max_attempts=options.max_attempts, max_minutes=options.max_minutes)
    program = _run_optimizer(student, options, trainset=BudgetedTrainset(trainset, budget, tracked), valset=valset,
                             metric=tracked, teacher_lm=teacher_lm)
    if budget.stopped_early:
        notify("bootstrap-budget", {"stopped_after": budget.stopped_early, "passed": tracked.passed})
    return Compiled(program, tracked.evaluated, tracked.passed, budget.stopped_early)


def _run_optimizer(student: dspy.Module, options: OptimizeOptions, *, trainset: list[dspy.Example],
                   valset: list[dspy.Example], metric: ProgressMetric, teacher_lm: dspy.BaseLM | None
                   ) -> dspy.Module:
    teacher_settings = {"lm": teacher_lm} if teacher_lm is not None else None
    demos = {"max_bootstrapped_demos": options.max_bootstrapped_demos,
             "max_labeled_demos": options.max_labeled_demos}
    if options.optimizer == "knn":
        # Like dspy.KNNFewShot (labeled neighbours as demos per input), but a program DSPy can save and reload.
        signature = student.predictors()[-1].signature
        return KNN(signature).with_pool(list(trainset), k=options.max_labeled_demos)
    if options.optimizer == "labeled":
        return dspy.LabeledFewShot(k=options.max_labeled_demos).compile(student, trainset=list(trainset),
                                                                        sample=False)
    if options.optimizer == "bootstrap":
        optimizer = dspy.BootstrapFewShot(metric=metric, teacher_settings=teacher_settings,
                                          max_rounds=options.max_rounds, **demos)
        return optimizer.compile(student, trainset=trainset)
    if options.optimizer == "random-search":
        search = dspy.BootstrapFewShotWithRandomSearch(
            metric=metric, teacher_settings=teacher_settings, max_rounds=options.max_rounds,
            num_candidate_programs=options.num_candidates, num_threads=1, **demos)
        return search.compile(student, trainset=list(trainset), valset=valset)
    # An explicit budget instead of auto="light" (dozens of dev evaluations: hours on 2 cores). The teacher, when
    # there is one, both bootstraps the demo sets and proposes the instructions.
    mipro = dspy.MIPROv2(metric=metric, prompt_model=teacher_lm, teacher_settings=teacher_settings, auto=None,
                         num_candidates=options.num_candidates, num_threads=1, seed=options.seed, **demos)
    return mipro.compile(student, trainset=list(trainset), valset=valset, num_trials=options.num_trials,
                         minibatch=False)
