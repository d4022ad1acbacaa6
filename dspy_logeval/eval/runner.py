"""evaluate: config → dataset → program → LM → per-sample records → metrics → run folder → leaderboard."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dspy

from dspy_logeval.core.config import ExperimentConfig
from dspy_logeval.core.errors import DatasetError, ModelUnavailable, RunStopped, TrackingError
from dspy_logeval.core.provenance import git_commit, package_versions
from dspy_logeval.data.dataset import Dataset, Sample, load_dataset
from dspy_logeval.data.floors import FloorModel, fit_floors, floor_pool
from dspy_logeval.eval.examples import to_examples
from dspy_logeval.eval.predict import TRANSPORT, predict_one
from dspy_logeval.eval.production import artifact_config, production_record, production_session
from dspy_logeval.lm.adapter import SchemaJSONAdapter
from dspy_logeval.lm.dspy_lm import build_lm
from dspy_logeval.lm.endpoint import Endpoint, endpoint_record, open_endpoint
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.leaderboard import rebuild_leaderboard
from dspy_logeval.runs.record import Lineage, SampleRecord
from dspy_logeval.runs.report import rescore_run
from dspy_logeval.runs.tracking import log_run, require_mlflow
from dspy_logeval.serve.analyzer import LogAnalyzer
from dspy_logeval.serve.prompt_artifact import PromptArtifact
from programs import program_class
from signatures import load_signature

log = logging.getLogger(__name__)
Progress = Callable[[SampleRecord, int], None]
"""Called after each sample with its record and the number of samples this run will score."""


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


Predictor = Callable[[Sample], SampleRecord]
"""One sample → its record; a bad answer or a failed request is a record, never an exception."""


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
    """
    tracking_uri = request.mlflow or (config.tracking.mlflow if config.tracking else None)
    if tracking_uri:
        require_mlflow()  # before the run, not after it
    dataset = load_dataset(request.dataset or config.dataset.version)
    split = request.split or config.dataset.split
    samples = select_samples(dataset, split, request.limit)
    if artifact is None:
        program = program or build_program(config, dataset)
    with _session(config, program=program, artifact=artifact, lm=lm, analyzer=analyzer, endpoint=endpoint,
                  cache=request.cache) as session:
        run = resume or RunFolder.create(runs_dir, config.experiment_id, _run_fields(
            config, dataset, split=split, limit=request.limit, lm_record=session.lm_record, lineage=lineage,
            analyzer="production" if artifact is not None else "dspy"))
        done = {r.sample_id for r in run.records()} if resume else set()
        todo = [s for s in samples if s.id not in done]
        predict = with_floors(session.predict, fit_floors(floor_pool(dataset, samples)))
        try:
            run_samples(predict, todo, run=run, max_errors=config.runtime.max_errors,
                        concurrency=request.concurrency or config.runtime.concurrency, progress=progress)
        except (ModelUnavailable, KeyboardInterrupt) as exc:
            _stop(run, exc, total=len(samples))
    finalize_run(run)
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
    return lm, endpoint_record(endpoint)


def _run_fields(config: ExperimentConfig, dataset: Dataset, *, split: str, limit: int | None,
                lm_record: dict[str, Any], lineage: Lineage | None, analyzer: str) -> dict[str, Any]:
    """config.json's fields (RunRecord): the one place a run's provenance is assembled."""
    return {"config": config, "analyzer": analyzer, "git_commit": git_commit(),
            "dataset": {"version": dataset.version, "path": str(dataset.path), "sha256": dataset.sha256,
                        "split": split, "limit": limit},
            **lm_record, "packages": package_versions(), "seed": config.seed, "lineage": lineage}


def run_samples(predict: Predictor, samples: list[Sample], *, run: RunFolder, max_errors: int, concurrency: int,
                progress: Progress | None) -> None:
    """The evaluation loop: predict each sample (CONCURRENCY in flight), append its record as it completes,
    and stop with ModelUnavailable after MAX_ERRORS transport failures in a row."""
    failures = 0
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        pending = [pool.submit(predict, s) for s in samples[:concurrency]]
        queue = iter(samples[concurrency:])
        while pending:
            future = next(as_completed(pending))
            pending.remove(future)
            record = future.result()
            run.append(record)
            if progress:
                progress(record, len(samples))
            failures = failures + 1 if record.error_kind == TRANSPORT else 0
            if failures >= max_errors:
                for other in pending:
                    other.cancel()
                raise ModelUnavailable(f"{failures} requests in a row could not reach the LM ({record.error})")
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(pool.submit(predict, nxt))


def _stop(run: RunFolder, exc: BaseException, *, total: int) -> None:
    done = len(run.records())
    if done:
        finalize_run(run)
    reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"the LM went away: {exc}"
    raise RunStopped(f"run stopped after {done}/{total} samples ({reason}); records kept in {run.path}; "
                     f"continue with `logeval evaluate --resume {run.run_id}`") from None


def finalize_run(run: RunFolder) -> dict[str, Any]:
    """metrics.json, summary.md and report.html from results.jsonl (the run's frozen settings), then the
    leaderboard row."""
    metrics, _lost = rescore_run(run)
    rebuild_leaderboard(run.path.parent, run.path.parent.parent / "leaderboard.json")
    return metrics
