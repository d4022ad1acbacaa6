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
from dspy_logeval.core.errors import AnalysisParseError, LMRequestError, LMResponseError, ModelUnavailable
from dspy_logeval.data.dataset import Sample
from dspy_logeval.eval.failures import classify_error
from dspy_logeval.eval.predict import base_record, exchange_fields, finish_record
from dspy_logeval.lm.endpoint import endpoint_record, open_endpoint, read_api_key
from dspy_logeval.runs.record import SampleRecord
from dspy_logeval.serve.analyzer import Exchange, LogAnalyzer
from dspy_logeval.serve.prompt_artifact import PromptArtifact
from dspy_logeval.serve.session import analyzer_on


def production_record(analyzer: LogAnalyzer, sample: Sample, *, weights: Mapping[str, float]) -> SampleRecord:
    """One sample through the production analyzer as a results.jsonl record; failures become data."""
    record = base_record(sample)
    exchanges: list[Exchange] = []
    started = time.perf_counter()
    try:
        result = analyzer.analyze(record["logs"], exchanges=exchanges)
    except (AnalysisParseError, ModelUnavailable, LMRequestError, LMResponseError) as exc:
        return finish_record(record, None, weights=weights, latency_ms=(time.perf_counter() - started) * 1000,
                             usage={}, error=classify_error(exc), exchange=_last(exchanges))
    return finish_record(record, result.analysis.labels(), weights=weights, latency_ms=result.latency_ms,
                         usage=result.tokens, reasoning=result.analysis.reasoning, exchange=_last(exchanges))


def _last(exchanges: list[Exchange]) -> dict[str, Any]:
    """The record fields of the last request (the one whose answer was parsed), if one was answered."""
    if not exchanges:
        return {}
    last = exchanges[-1]
    return exchange_fields([dict(m) for m in last.messages], last.content)


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
        yield live, endpoint_record(endpoint, api_key=api_key, connect_timeout=runtime.connect_timeout,
                                    timeout=runtime.first_request_timeout)
