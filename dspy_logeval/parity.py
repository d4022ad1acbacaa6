"""The production path on the golden set: LogAnalyzer runs as a normal run folder, and parity with DSPy.

`evaluate_production` scores a prompt artifact through the production analyzer (no DSPy in the request path)
and writes the same results.jsonl/metrics.json as `logeval evaluate`. `verify_parity` runs a DSPy program
and its artifact on the same samples and server at temperature 0 and counts identical predictions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dspy

from dspy_logeval.adapter import SchemaJSONAdapter
from dspy_logeval.analyzer import LLMConfig, LogAnalyzer
from dspy_logeval.config import ExperimentConfig, ModelConfig, load_config, validate_config
from dspy_logeval.dataset import Dataset, Sample, load_dataset
from dspy_logeval.errors import AnalysisParseError, LMRequestError, ModelUnavailable
from dspy_logeval.export import ProgramSource
from dspy_logeval.lm import Endpoint, build_lm, open_endpoint
from dspy_logeval.metrics import compute_metrics
from dspy_logeval.prompt_artifact import PromptArtifact
from dspy_logeval.provenance import git_commit, package_versions
from dspy_logeval.records import TRANSPORT, base_record, finish_record, predict_one
from dspy_logeval.runner import finalize_run, select_samples
from dspy_logeval.runs import RunFolder

COMPARED_METRICS = ("composite", "accuracy.root_cause_exact_match", "accuracy.severity_classification",
                    "accuracy.action", "quality.parse_failure_rate")


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


@contextmanager
def production_analyzer(artifact: PromptArtifact, model: ModelConfig, *, timeout: float, retries: int,
                        temperature: float | None = None) -> Iterator[LogAnalyzer]:
    """A LogAnalyzer on the embedded server or the user's endpoint, for the duration of the block."""
    overrides: dict[str, Any] = {"timeout": timeout, "retries": retries}
    if temperature is not None:
        overrides["temperature"] = temperature
    with open_endpoint(model) as endpoint:
        analyzer = LogAnalyzer(endpoint.base_url, endpoint.model_name,
                               LLMConfig.from_sampling(artifact.sampling, **overrides), artifact)
        try:
            yield analyzer
        finally:
            analyzer.close()


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


@dataclass
class ParityReport:
    """How often the DSPy program and the production analyzer gave the same answer, and the metric gap."""

    n: int
    identical: int
    metrics_dspy: dict[str, float] = field(default_factory=dict)
    metrics_production: dict[str, float] = field(default_factory=dict)
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identical_share(self) -> float:
        return self.identical / self.n if self.n else 0.0

    def differences(self) -> dict[str, float]:
        """production − DSPy for each compared metric."""
        return {k: self.metrics_production[k] - self.metrics_dspy[k] for k in self.metrics_dspy}


def _pick(metrics: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in COMPARED_METRICS:
        value: Any = metrics
        for part in key.split("."):
            value = value[part]
        out[key] = float(value)
    return out


def verify_parity(source: ProgramSource, artifact: PromptArtifact, *, dataset: str | None = None,
                  split: str = "test", limit: int | None = None, endpoint: str | None = None) -> ParityReport:
    """Run SOURCE's program and ARTIFACT through LogAnalyzer on the same samples and server, temperature 0."""
    config = source.config
    model = config.model if endpoint is None else config.model.model_copy(update={"endpoint": endpoint})
    samples = select_samples(load_dataset(dataset or config.dataset.version), split, limit)
    llm = config.llm_config.model_copy(update={"temperature": 0.0})
    weights = config.metrics.weights
    with production_analyzer(artifact, model, timeout=config.runtime.request_timeout,
                             retries=config.runtime.retries, temperature=0.0) as analyzer:
        lm = build_lm(_endpoint_of(analyzer, model), llm, config.runtime, api_key_env=model.api_key_env)
        with dspy.context(lm=lm, adapter=SchemaJSONAdapter(), track_usage=True):
            dspy_records = [predict_one(source.program, s, weights=weights) for s in samples]
        prod_records = [production_record(analyzer, s, weights=weights) for s in samples]
    return _compare(dspy_records, prod_records, config)


def _endpoint_of(analyzer: LogAnalyzer, model: ModelConfig) -> Endpoint:
    return Endpoint(analyzer.llm_url, analyzer.model_name, None, None, embedded=model.endpoint == "embedded")


def _compare(dspy_records: list[dict[str, Any]], prod_records: list[dict[str, Any]],
             config: ExperimentConfig) -> ParityReport:
    same = [a["predicted"] == b["predicted"] and a["error_kind"] == b["error_kind"]
            for a, b in zip(dspy_records, prod_records, strict=True)]
    mismatches = [{"sample_id": a["sample_id"], "dspy": a["predicted"] or a["error"],
                   "production": b["predicted"] or b["error"]}
                  for a, b, ok in zip(dspy_records, prod_records, same, strict=True) if not ok]

    def scored(records: list[dict[str, Any]]) -> dict[str, float]:
        return _pick(compute_metrics(records, weights=config.metrics.weights, seed=config.seed))

    return ParityReport(n=len(same), identical=sum(same), metrics_dspy=scored(dspy_records),
                        metrics_production=scored(prod_records), mismatches=mismatches)
