"""The production analyzer as a predictor: a prompt artifact through LogAnalyzer, one sample at a time.

The runner scores it like any program (`evaluate_experiment(..., artifact=...)`), so a production run folder is
the same as any other; no DSPy is in the request path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dspy_logeval.core.config import ExperimentConfig, load_config, validate_config
from dspy_logeval.core.errors import AnalysisParseError, LMRequestError, ModelUnavailable
from dspy_logeval.core.redact import redact_url
from dspy_logeval.data.dataset import Sample
from dspy_logeval.eval.predict import TRANSPORT, base_record, finish_record
from dspy_logeval.lm.endpoint import endpoint_record, open_endpoint, read_api_key
from dspy_logeval.runs.record import SampleRecord
from dspy_logeval.serve.analyzer import LogAnalyzer
from dspy_logeval.serve.prompt_artifact import PromptArtifact
from dspy_logeval.serve.session import analyzer_on


def production_record(analyzer: LogAnalyzer, sample: Sample, *, weights: Mapping[str, float]) -> SampleRecord:
    """One sample through the production analyzer as a results.jsonl record; failures become data."""
    record = base_record(sample)
    started = time.perf_counter()
    try:
        result = analyzer.analyze(record["logs"])
    except (AnalysisParseError, ModelUnavailable, LMRequestError) as exc:
        kind = {AnalysisParseError: "parse", ModelUnavailable: TRANSPORT}.get(type(exc), "request")
        return finish_record(record, None, weights=weights, latency_ms=(time.perf_counter() - started) * 1000,
                             usage={}, error=(kind, redact_url(str(exc))[:240]))
    return finish_record(record, result.analysis.labels(), weights=weights, latency_ms=result.latency_ms,
                         usage=result.tokens, reasoning=result.analysis.reasoning)


def artifact_config(artifact: PromptArtifact, *, endpoint: str | None = None) -> ExperimentConfig:
    """The experiment config a production run records: the artifact's source config, renamed prod-<name>."""
    base = artifact.provenance.get("config") or load_config().model_dump(mode="json")
    model = {**base.get("model", {}), "name": artifact.model}
    if endpoint:
        model["endpoint"] = endpoint
    return validate_config({**base, "experiment_id": f"prod-{artifact.name}", "model": model,
                            "llm_config": artifact.sampling.model_dump()}, source=f"prompt {artifact.name}")


@contextmanager
def production_session(artifact: PromptArtifact, config: ExperimentConfig, *, analyzer: LogAnalyzer | None = None
                       ) -> Iterator[tuple[LogAnalyzer, dict[str, Any]]]:
    """(analyzer, what config.json records about its LM): ANALYZER as given, or one on the config's model."""
    if analyzer is not None:
        yield analyzer, {"endpoint": "injected", "model_sha256": None, "schema_enforced": None}
        return
    runtime, api_key = config.runtime, read_api_key(config.model.api_key_env)
    with open_endpoint(config.model) as endpoint, analyzer_on(endpoint, artifact, timeout=runtime.request_timeout,
                                                              retries=runtime.retries, api_key=api_key) as live:
        yield live, endpoint_record(endpoint)
