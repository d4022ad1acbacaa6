"""The evaluation loop: workers predict samples, the main thread records each as it completes, and stops the
run when the LM side keeps failing or nothing finishes for too long.

Workers are daemon threads, so Ctrl-C (or a stop) never waits for a request still in flight: the main thread
records what is done and leaves; the caller stops the embedded server, which ends those requests.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dspy_logeval.core.errors import ModelUnavailable
from dspy_logeval.data.dataset import Sample
from dspy_logeval.eval.failures import is_infrastructure
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.record import SampleRecord

Predictor = Callable[[Sample], SampleRecord]
"""One sample → its record; a bad answer or a failed request is a record, never an exception."""
Progress = Callable[[SampleRecord, int], None]
"""Called after each recorded sample with its record and the number of samples this run will score."""


@dataclass(frozen=True)
class LoopLimits:
    """When the loop gives up: LM-side failures in a row, and seconds without any sample finishing."""

    max_errors: int = 3
    stall_seconds: float = 120.0
    concurrency: int = 1


@dataclass(frozen=True)
class LoopResult:
    """What the loop did: samples recorded, and LM-side failures kept out of results.jsonl (failures.jsonl)."""

    recorded: int
    failed: int


def run_samples(predict: Predictor, samples: list[Sample], *, run: RunFolder, limits: LoopLimits,
                progress: Progress | None = None, endpoint: str = "the LM") -> LoopResult:
    """Predict SAMPLES and record each as it completes; raise ModelUnavailable when the LM side failed
    LIMITS.max_errors times in a row or no sample finished for LIMITS.stall_seconds."""
    todo: queue.Queue[Sample] = queue.Queue()
    for sample in samples:
        todo.put(sample)
    done: queue.Queue[tuple[Sample, SampleRecord | BaseException]] = queue.Queue()
    stop = threading.Event()
    for _ in range(min(limits.concurrency, len(samples))):
        threading.Thread(target=_work, args=(predict, todo, done, stop), daemon=True).start()
    recorded = failed = in_a_row = 0
    try:
        for _ in samples:
            try:
                sample, outcome = done.get(timeout=limits.stall_seconds)
            except queue.Empty:
                raise ModelUnavailable(f"no sample finished in {limits.stall_seconds:.0f} s: {endpoint} accepts "
                                       "requests but does not answer (hung); runtime.stall_timeout sets the "
                                       "limit") from None
            if isinstance(outcome, BaseException):
                raise outcome
            if is_infrastructure(outcome.error_kind):
                run.record_failure(outcome)
                failed, in_a_row = failed + 1, in_a_row + 1
                if in_a_row >= limits.max_errors:
                    raise ModelUnavailable(f"{in_a_row} requests in a row failed on the LM side ({outcome.error})")
                continue
            run.append(outcome)
            recorded, in_a_row = recorded + 1, 0
            if progress:
                progress(outcome, len(samples))
    finally:
        stop.set()
    return LoopResult(recorded, failed)


def _work(predict: Predictor, todo: queue.Queue[Sample],
          done: queue.Queue[tuple[Sample, SampleRecord | BaseException]], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            sample = todo.get_nowait()
        except queue.Empty:
            return
        try:
            done.put((sample, predict(sample)))
        except BaseException as exc:  # noqa: BLE001 - a bug in a predictor reaches the main thread, not stderr
            done.put((sample, exc))
