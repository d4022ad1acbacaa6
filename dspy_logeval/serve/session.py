"""A LogAnalyzer on a live LM: the embedded llama.cpp server or the user's endpoint, for one block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dspy_logeval.core.config import ModelConfig
from dspy_logeval.lm.endpoint import Endpoint, open_endpoint, read_api_key
from dspy_logeval.serve.analyzer import AnalyzerSettings, LogAnalyzer
from dspy_logeval.serve.prompt_artifact import PromptArtifact


@contextmanager
def production_analyzer(artifact: PromptArtifact, model: ModelConfig, *, timeout: float, retries: int,
                        temperature: float | None = None) -> Iterator[LogAnalyzer]:
    """A LogAnalyzer on the embedded server or the user's endpoint, for the duration of the block."""
    with served_analyzer(artifact, model, timeout=timeout, retries=retries, temperature=temperature) as (analyzer, _):
        yield analyzer


@contextmanager
def served_analyzer(artifact: PromptArtifact, model: ModelConfig, *, timeout: float, retries: int,
                    temperature: float | None = None) -> Iterator[tuple[LogAnalyzer, Endpoint]]:
    """(analyzer, the endpoint it talks to) for the block; the API restarts the endpoint's dead child through
    `endpoint.supervisor`. The LM's API key comes from the environment variable model.api_key_env."""
    api_key = read_api_key(model.api_key_env)
    with open_endpoint(model) as endpoint, analyzer_on(endpoint, artifact, timeout=timeout, retries=retries,
                                                       temperature=temperature, api_key=api_key) as analyzer:
        yield analyzer, endpoint


@contextmanager
def analyzer_on(endpoint: Endpoint, artifact: PromptArtifact, *, timeout: float, retries: int,
                temperature: float | None = None, api_key: str | None = None) -> Iterator[LogAnalyzer]:
    """A LogAnalyzer for ARTIFACT on an open ENDPOINT (API_KEY sent as a bearer token), closed after the block."""
    overrides: dict[str, Any] = {"timeout": timeout, "retries": retries}
    if temperature is not None:
        overrides["temperature"] = temperature
    analyzer = LogAnalyzer(endpoint.base_url, endpoint.model_name,
                           AnalyzerSettings.from_sampling(artifact.sampling, **overrides), artifact, api_key=api_key)
    try:
        yield analyzer
    finally:
        analyzer.close()
