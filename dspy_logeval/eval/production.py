"""The production path on the golden set: a prompt artifact through LogAnalyzer, scored as a normal run folder.

`evaluate_production` scores a prompt artifact through the production analyzer (no DSPy in the request path)
and writes the same results.jsonl/metrics.json as `logeval evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dspy_logeval.core.config import ExperimentConfig, load_config, validate_config
from dspy_logeval.core.errors import AnalysisParseError, LMRequestError, ModelUnavailable
from dspy_logeval.core.provenance import git_commit, package_versions
from dspy_logeval.data.dataset import Dataset, Sample, load_dataset
from dspy_logeval.eval.predict import TRANSPORT, base_record, finish_record
from dspy_logeval.eval.runner import finalize_run, select_samples
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.serve.analyzer import LogAnalyzer
from dspy_logeval.serve.prompt_artifact import PromptArtifact
from dspy_logeval.serve.session import production_analyzer


def production_record(analyzer: LogAnalyzer, sample: Sample, *, weights: Mapping[str, float]) -> dict[str, Any]:
    """One sample through the production analyzer as a results.jsonl record; failures become data."""
    record = base_record(sample)
    started = time.perf_counter()
    try:
        result = analyzer.analyze(record["logs"])
    except (AnalysisParseError, ModelUnavailable, LMRequestError) as exc:
        kind = {AnalysisParseError: "parse", ModelUnavailable: TRANSPORT}.get(type(exc), "request")
        return finish_record(record, None, weights=weights, latency_ms=(time.perf_counter() - started) * 1000,
                             usage={}, error=(kind, str(exc)[:240]))
    return finish_record(record, result.analysis.labels(), weights=weights, latency_ms=result.latency_ms,
                         usage=result.tokens, reasoning=result.analysis.reasoning)


def artifact_config(artifact: PromptArtifact, *, endpoint: str | None) -> ExperimentConfig:
    """The experiment config a production run records: the artifact's source config, renamed prod-<name>."""
    base = artifact.provenance.get("config") or load_config().model_dump(mode="json")
    model = {**base.get("model", {}), "name": artifact.model}
    if endpoint:
        model["endpoint"] = endpoint
    return validate_config({**base, "experiment_id": f"prod-{artifact.name}", "model": model,
                            "llm_config": artifact.sampling.model_dump()}, source=f"prompt {artifact.name}")


def evaluate_production(artifact: PromptArtifact, *, runs_dir: Path, dataset: str | None = None,
                        split: str = "test", limit: int | None = None, endpoint: str | None = None,
                        analyzer: LogAnalyzer | None = None) -> RunFolder:
    """Score ARTIFACT through the production analyzer and write a normal run folder.

    Args:
        artifact: the prompt artifact (load_artifact).
        runs_dir: where the run folder goes.
        dataset: version or samples.json path (default: the artifact's source dataset).
        split: all, train, dev or test.
        limit: score only the first N samples.
        endpoint: 'embedded' or a URL (default: the source config's endpoint); ignored with ANALYZER.
        analyzer: an analyzer to use as is (tests inject one with a mock transport).

    Returns:
        The run folder with results.jsonl, metrics.json, summary.md, report.html.
    """
    config = artifact_config(artifact, endpoint=endpoint)
    data = load_dataset(dataset or config.dataset.version)
    samples = select_samples(data, split, limit)
    run = RunFolder.create(runs_dir, config.experiment_id, _run_record(artifact, config, data, split=split,
                                                                       limit=limit))
    if analyzer is not None:
        _score(analyzer, samples, run=run, config=config)
    else:
        with production_analyzer(artifact, config.model, timeout=config.runtime.request_timeout,
                                 retries=config.runtime.retries) as live:
            _score(live, samples, run=run, config=config)
    finalize_run(run)
    return run


def _run_record(artifact: PromptArtifact, config: ExperimentConfig, data: Dataset, *, split: str,
                limit: int | None) -> dict[str, Any]:
    return {"config": config.model_dump(mode="json"), "git_commit": git_commit(), "analyzer": "production",
            "dataset": {"version": data.version, "path": str(data.path), "sha256": data.sha256, "split": split,
                        "limit": limit},
            "endpoint": config.model.endpoint, "packages": package_versions(), "seed": config.seed,
            "lineage": {"prompt": artifact.meta(), "compiled": None}}


def _score(analyzer: LogAnalyzer, samples: list[Sample], *, run: RunFolder, config: ExperimentConfig) -> None:
    failures = 0
    for sample in samples:
        record = production_record(analyzer, sample, weights=config.metrics.weights)
        run.append(record)
        failures = failures + 1 if record["error_kind"] == TRANSPORT else 0
        if failures >= config.runtime.max_errors:
            finalize_run(run)
            raise ModelUnavailable(f"{failures} requests in a row could not reach the LM ({record['error']}); "
                                   f"records kept in {run.path}")
