"""evaluate: config → dataset → program → LM → per-sample records → metrics → run folder → leaderboard."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

import dspy

from dspy_logeval.core.config import ExperimentConfig
from dspy_logeval.core.errors import DatasetError, ModelUnavailable, RunError, RunStopped, TrackingError
from dspy_logeval.core.provenance import git_commit, package_versions
from dspy_logeval.core.redact import redact_json
from dspy_logeval.data.dataset import Dataset, Sample, load_dataset
from dspy_logeval.data.floors import FloorModel, fit_floors, floor_pool
from dspy_logeval.eval.examples import to_examples
from dspy_logeval.eval.loop import LoopLimits, Predictor, Progress, run_samples
from dspy_logeval.eval.predict import predict_one
from dspy_logeval.eval.production import artifact_config, production_record, production_session
from dspy_logeval.lm.adapter import SchemaJSONAdapter
from dspy_logeval.lm.dspy_lm import build_lm
from dspy_logeval.lm.endpoint import Endpoint, endpoint_record, open_endpoint, read_api_key
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.leaderboard import rebuild_leaderboard
from dspy_logeval.runs.record import Lineage, RunState, SampleRecord
from dspy_logeval.runs.report import rescore_run
from dspy_logeval.runs.tracking import log_run, require_mlflow
from dspy_logeval.serve.analyzer import LogAnalyzer
from dspy_logeval.serve.prompt_artifact import PromptArtifact
from programs import program_class
from signatures import load_signature

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalRequest:
    """What to score: overrides on top of the config (CLI flags)."""

    split: str | None = None
    dataset: str | None = None
    limit: int | None = None
    concurrency: int | None = None
    cache: bool = False
    mlflow: str | None = None
    """MLflow tracking URI to log the finished run to (default: the config's tracking.mlflow)."""


def build_program(config: ExperimentConfig, dataset: Dataset) -> dspy.Module:
    """The config's program on its prompt template; fewshot and knn take their demos from the train split."""
    signature = load_signature(config.prompt.template, system_prompt=config.prompt.system_prompt)
    program = program_class(config.program)(signature)
    if config.program in ("fewshot", "knn"):
        train = [s for s in dataset.samples if s.split == "train"]
        if not train:
            raise DatasetError(f"{dataset.path} has no train split to take {config.program} demos from")
        if config.program == "fewshot":
            return program.with_demos(to_examples(train), k=config.fewshot_k, seed=config.seed)
        return program.with_pool(to_examples(train), k=config.fewshot_k)
    return program


def select_samples(dataset: Dataset, split: str, limit: int | None) -> list[Sample]:
    samples = dataset.split(split)
    return samples[:limit] if limit else samples


@dataclass(frozen=True)
class Session:
    """The LM side of one run: how to predict a sample, and what config.json records about the LM."""

    predict: Predictor
    lm_record: dict[str, Any]


def evaluate_experiment(config: ExperimentConfig, *, runs_dir: Path, request: EvalRequest = EvalRequest(),
                        lm: dspy.BaseLM | None = None, program: dspy.Module | None = None,
                        lineage: Lineage | None = None, progress: Progress | None = None,
                        resume: RunFolder | None = None, endpoint: Endpoint | None = None,
                        artifact: PromptArtifact | None = None, analyzer: LogAnalyzer | None = None) -> RunFolder:
    """Run one experiment and return the run folder it wrote (metrics, summary, report, leaderboard row).

    What predicts is PROGRAM (default: the config's program) through DSPy, or, with ARTIFACT, the production
    analyzer (no DSPy in the request path). The LM is, in order: LM or ANALYZER (injected, e.g. fakes in
    tests), ENDPOINT (a server a caller already runs), or the config's model (the embedded server is started
    for the duration of the call).

    Raises:
        RunStopped: the LM side failed (unreachable, hung, 5xx, not a completion), Ctrl-C, or a full disk; what
            was recorded is kept, metrics cover it, and `--resume` finishes the run.
    """
    tracking_uri = request.mlflow or (config.tracking.mlflow if config.tracking else None)
    if tracking_uri:
        require_mlflow()  # before the run, not after it
    dataset = load_dataset(request.dataset or config.dataset.version)
    split = request.split or config.dataset.split
    samples = select_samples(dataset, split, request.limit)
    if resume is not None:
        check_resumable(resume, config, dataset, split=split, limit=request.limit)
    else:
        ensure_writable(runs_dir)  # before a model starts: an unwritable folder fails in a blink
    if artifact is None:
        program = program or build_program(config, dataset)
    with _session(config, program=program, artifact=artifact, lm=lm, analyzer=analyzer, endpoint=endpoint,
                  cache=request.cache) as session:
        run = resume or RunFolder.create(runs_dir, config.experiment_id, _run_fields(
            config, dataset, split=split, limit=request.limit, lm_record=session.lm_record, lineage=lineage,
            analyzer="production" if artifact is not None else "dspy"))
        done = {r.sample_id for r in run.records()}
        todo = [s for s in samples if s.id not in done]
        predict = with_floors(session.predict, fit_floors(floor_pool(dataset, samples)))
        limits = LoopLimits(max_errors=config.runtime.max_errors, stall_seconds=config.runtime.stall_timeout,
                            concurrency=request.concurrency or config.runtime.concurrency)
        try:
            result = run_samples(predict, todo, run=run, limits=limits, progress=progress,
                                 endpoint=f"the LM at {session.lm_record.get('endpoint')}")
        except (ModelUnavailable, KeyboardInterrupt, RunError) as exc:
            _stop(run, exc, total=len(samples))
    _close(run, total=len(samples), failed=result.failed)
    if tracking_uri:
        track_run(run, tracking_uri, experiment=config.tracking.mlflow_experiment if config.tracking else None)
    return run


def track_run(run: RunFolder, uri: str, *, experiment: str | None) -> str:
    """Log the finished RUN to MLflow at URI; a failure says the run folder itself is complete."""
    try:
        mlflow_run = log_run(run, uri, experiment=experiment)
    except TrackingError as exc:
        raise TrackingError(f"{exc} (the run folder {run.path} is complete)") from None
    log.info("logged %s to MLflow at %s as run %s", run.run_id, uri, mlflow_run)
    return mlflow_run


def evaluate_production(artifact: PromptArtifact, *, runs_dir: Path, request: EvalRequest = EvalRequest(),
                        endpoint: str | None = None, analyzer: LogAnalyzer | None = None,
                        progress: Progress | None = None, resume: RunFolder | None = None) -> RunFolder:
    """Score ARTIFACT through the production analyzer (no DSPy in the request path) as a normal run folder.

    ENDPOINT ('embedded' or a URL) overrides the artifact's source config; ANALYZER is used as is (tests inject
    one on a mock transport). The split defaults to test.
    """
    config = artifact_config(artifact, endpoint=endpoint)
    request = replace(request, split=request.split or "test")
    return evaluate_experiment(config, runs_dir=runs_dir, request=request, artifact=artifact, analyzer=analyzer,
                               lineage=Lineage(prompt=artifact.meta()), progress=progress, resume=resume)


def with_floors(predict: Predictor, floors: FloorModel | None) -> Predictor:
    """PREDICT, with what each no-LLM floor answers for the same sample added to its record."""
    if floors is None:
        return predict

    def predict_and_floors(sample: Sample) -> SampleRecord:
        return predict(sample).model_copy(update={"floors": floors.predict(sample)})

    return predict_and_floors


@contextmanager
def _session(config: ExperimentConfig, *, program: dspy.Module | None, artifact: PromptArtifact | None,
             lm: dspy.BaseLM | None, analyzer: LogAnalyzer | None, endpoint: Endpoint | None,
             cache: bool) -> Iterator[Session]:
    weights = config.metrics.weights
    if artifact is not None:
        with production_session(artifact, config, analyzer=analyzer) as (live, lm_record):
            yield Session(lambda sample: production_record(live, sample, weights=weights), lm_record)
        return
    assert program is not None
    adapter = SchemaJSONAdapter()
    with lm_session(config, lm=lm, endpoint=endpoint, cache=cache) as (active_lm, lm_record):
        def predict(sample: Sample) -> SampleRecord:
            with dspy.context(lm=active_lm, adapter=adapter, track_usage=True):
                return predict_one(program, sample, weights=weights)

        yield Session(predict, lm_record)


@contextmanager
def lm_session(config: ExperimentConfig, *, lm: dspy.BaseLM | None = None, endpoint: Endpoint | None = None,
               cache: bool = False) -> Iterator[tuple[dspy.BaseLM, dict[str, Any]]]:
    """(dspy LM, what to record about it) for one command: injected, on an open endpoint, or a new one."""
    if lm is not None:
        yield lm, {"endpoint": "injected", "model_sha256": None, "schema_enforced": None}
        return
    if endpoint is not None:
        yield _lm_on(endpoint, config, cache=cache)
        return
    with open_endpoint(config.model) as opened:
        yield _lm_on(opened, config, cache=cache)


def _lm_on(endpoint: Endpoint, config: ExperimentConfig, *, cache: bool) -> tuple[dspy.BaseLM, dict[str, Any]]:
    lm = build_lm(endpoint, config.llm_config, config.runtime, api_key_env=config.model.api_key_env, cache=cache)
    return lm, endpoint_record(endpoint, **startup_check(config))


def startup_check(config: ExperimentConfig) -> dict[str, Any]:
    """endpoint_record's arguments for CONFIG: its API key and the start-up check's deadlines."""
    runtime = config.runtime
    return {"api_key": read_api_key(config.model.api_key_env),
            "connect_timeout": runtime.connect_timeout, "timeout": runtime.first_request_timeout}


def _run_fields(config: ExperimentConfig, dataset: Dataset, *, split: str, limit: int | None,
                lm_record: dict[str, Any], lineage: Lineage | None, analyzer: str) -> dict[str, Any]:
    """config.json's fields (RunRecord): the one place a run's provenance is assembled."""
    return {"config": config, "analyzer": analyzer, "git_commit": git_commit(),
            "dataset": {"version": dataset.version, "path": str(dataset.path), "sha256": dataset.sha256,
                        "split": split, "limit": limit},
            **lm_record, "packages": package_versions(), "seed": config.seed, "lineage": lineage}


def check_resumable(run: RunFolder, config: ExperimentConfig, dataset: Dataset, *, split: str,
                    limit: int | None) -> None:
    """Refuse to resume RUN with anything but what it started with; cut a half-written last line first."""
    record = run.config()
    asked = {"dataset sha256": dataset.sha256, "split": split, "limit": limit,
             "config": redact_json(config.model_dump(mode="json"))}  # config.json holds its endpoint redacted
    had = {"dataset sha256": record.dataset.sha256, "split": record.dataset.split, "limit": record.dataset.limit,
           "config": record.config.model_dump(mode="json")}
    differ = [key for key in asked if asked[key] != had[key]]
    if differ:
        shown = ", ".join(f"{k} {had[k]!r} → {asked[k]!r}" for k in differ if k != "config")
        raise RunError(f"cannot resume {run.run_id} with another {' and '.join(differ)}"
                       f"{': ' + shown if shown else ''}; start a new run instead")
    dropped = run.repair_tail()
    if dropped:
        log.warning("%s: cut a half-written last line (%d bytes) off results.jsonl before resuming; that sample "
                    "is scored again", run.run_id, dropped)


def ensure_writable(runs_dir: Path) -> None:
    """RunError unless run folders can be created in RUNS_DIR (checked on it, or the folder that would hold it,
    without creating anything)."""
    existing = next((p for p in (runs_dir, *runs_dir.parents) if p.exists()), Path("/"))
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise RunError(f"cannot write run folders in {runs_dir}: {existing} is not a writable folder")


def _stop(run: RunFolder, exc: BaseException, *, total: int) -> NoReturn:
    interrupted = isinstance(exc, KeyboardInterrupt)
    reason = "interrupted" if interrupted else str(exc)
    done = len(run.records())
    try:  # the disk may be the reason the run stopped: saying so matters more than the summary files
        run.write_state(RunState(status="incomplete", scored=done, total=total, reason=reason))
        if done:
            finalize_run(run)
    except (OSError, RunError) as cleanup:
        log.warning("%s: could not write its summary files: %s", run.run_id, cleanup)
    hint = f"continue with `logeval evaluate --resume {run.run_id}`"
    if not done:
        hint += f" (or delete {run.path})"
    raise RunStopped(f"run stopped after {done}/{total} samples ({reason}); records kept in {run.path}; "
                     f"{hint}", exit_code=130 if interrupted else 1) from None


def _close(run: RunFolder, *, total: int, failed: int) -> None:
    """state.json, metrics and reports; a run with LM-side failures is incomplete: kept off the leaderboard."""
    done = len(run.records())
    complete = done >= total
    run.write_state(RunState(status="complete" if complete else "incomplete", scored=done, total=total,
                             failed=failed))
    if done:
        finalize_run(run)
    if not complete:
        raise RunStopped(f"run incomplete: {total - done} of {total} samples failed on the LM side (see "
                         f"{run.path / 'failures.jsonl'}); it stays off the leaderboard until "
                         f"`logeval evaluate --resume {run.run_id}` scores them")


def finalize_run(run: RunFolder) -> dict[str, Any]:
    """metrics.json, summary.md and report.html from results.jsonl (the run's frozen settings), then the
    leaderboard row."""
    metrics, _lost = rescore_run(run)
    rebuild_leaderboard(run.path.parent, run.path.parent.parent / "leaderboard.json")
    return metrics
