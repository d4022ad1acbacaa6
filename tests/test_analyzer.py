"""The production analyzer over httpx.MockTransport: request shape, retries, parsing, errors, no DSPy."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import VALID_ANALYSIS

from dspy_logeval.core.errors import AnalysisParseError, LMRequestError, LMResponseError, ModelUnavailable
from dspy_logeval.serve.analyzer import Analysis, AnalyzerSettings, LogAnalyzer, LogEntry
from dspy_logeval.serve.prompt_artifact import PLACEHOLDER, PromptArtifact

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = {"type": "object", "additionalProperties": False, "required": list(VALID_ANALYSIS), "properties": {
    "root_cause": {"type": "string", "enum": ["normal_operation", "container_oom_killed"]},
    "severity": {"type": "string", "enum": ["info", "warn", "error", "critical"]},
    "component": {"type": "string"}, "summary": {"type": "string"},
    "action_needed": {"type": "string", "enum": ["ignore", "increase_resources"]}}}


def make_artifact(**overrides: Any) -> PromptArtifact:
    raw: dict[str, Any] = {
        "format_version": 1, "name": "unit", "version": 1, "model": "fake-model",
        "messages": [{"role": "system", "content": "Diagnose the logs."},
                     {"role": "user", "content": f"[[ ## logs ## ]]\n{PLACEHOLDER}\n\nRespond with JSON."}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "LogAnalysis", "strict": True,
                                                                   "schema": SCHEMA}},
        "sampling": {"temperature": 0.0, "max_tokens": 64, "seed": 3}}
    raw.update(overrides)
    return PromptArtifact.model_validate(raw)


def completion(content: str, *, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"choices": [{"message": {"content": content}}],
                                        "usage": {"prompt_tokens": 11, "completion_tokens": 7}})


def make_analyzer(handler: Any, *, retries: int = 2) -> LogAnalyzer:
    config = AnalyzerSettings(temperature=0.0, max_tokens=64, seed=3, retries=retries, backoff=0.0, timeout=5)
    transport = httpx.MockTransport(handler)
    return LogAnalyzer("http://llm", "fake-model", config, make_artifact(),
                       client=httpx.Client(transport=transport),
                       async_client=httpx.AsyncClient(transport=transport))


LOGS = [LogEntry(timestamp="2025-01-01T00:00:00Z", namespace="llm", pod="api-0", container="api",
                 message="OOMKilled: memory limit 512Mi")]


def test_request_carries_schema_sampling_and_rendered_logs() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/chat/completions"
        seen.append(json.loads(request.content))
        return completion(json.dumps(VALID_ANALYSIS))

    result = make_analyzer(handler).analyze(LOGS)
    body = seen[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert body["model"] == "fake-model" and body["temperature"] == 0.0 and body["seed"] == 3
    assert body["max_tokens"] == 64 and "timeout" not in body and "retries" not in body
    assert body["messages"][1]["content"] == (
        "[[ ## logs ## ]]\n2025-01-01T00:00:00Z llm/api-0 api: OOMKilled: memory limit 512Mi\n\nRespond with JSON.")
    assert result.analysis == Analysis(**VALID_ANALYSIS)
    assert result.tokens == {"prompt_tokens": 11, "completion_tokens": 7} and result.latency_ms >= 0


def test_async_path_matches_sync() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return completion(json.dumps(VALID_ANALYSIS))

    analyzer = make_analyzer(handler)
    assert asyncio.run(analyzer.aanalyze(LOGS)).analysis == analyzer.analyze(LOGS).analysis


def test_logs_with_a_placeholder_are_not_expanded_twice() -> None:
    analyzer = make_analyzer(lambda r: completion("{}"))
    messages = analyzer.build_prompt(f"line one says {PLACEHOLDER}")
    assert messages[1]["content"].count(PLACEHOLDER) == 1 and "line one says" in messages[1]["content"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_are_retried(status: int) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return completion(json.dumps(VALID_ANALYSIS)) if len(calls) == 3 else httpx.Response(status, text="busy")

    assert make_analyzer(handler).analyze(LOGS).analysis.root_cause == "normal_operation"
    assert len(calls) == 3


def test_unreachable_lm_is_model_unavailable_after_retries() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ModelUnavailable, match="unavailable after 3 attempt"):
        make_analyzer(handler).analyze(LOGS)
    assert len(calls) == 3
    with pytest.raises(ModelUnavailable):
        asyncio.run(make_analyzer(handler, retries=0).aanalyze(LOGS))


def test_timeout_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ModelUnavailable, match="did not answer within"):
        make_analyzer(handler).analyze(LOGS)
    assert len(calls) == 1


def test_refused_request_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"error": {"message": "the request exceeds the available context size"}})

    with pytest.raises(LMRequestError, match="context size"):
        make_analyzer(handler).analyze(LOGS)
    assert len(calls) == 1


@pytest.mark.parametrize("content, reason", [
    ("not json at all", "not JSON"),
    ("[1, 2]", "not an object"),
    (json.dumps(VALID_ANALYSIS | {"root_cause": "made_up"}), "root_cause"),
    (json.dumps({"root_cause": "normal_operation"}), "severity"),
])
def test_unparseable_answers_raise_analysis_parse_error(content: str, reason: str) -> None:
    with pytest.raises(AnalysisParseError, match=reason):
        make_analyzer(lambda r: completion(content)).analyze(LOGS)


def test_labels_come_from_the_artifact_schema() -> None:
    # crashloop_backoff is a taxonomy label, but not in this artifact's (narrower) enum.
    analyzer = make_analyzer(lambda r: completion("{}"))
    with pytest.raises(AnalysisParseError, match="root_cause"):
        analyzer.parse_response(json.dumps(VALID_ANALYSIS | {"root_cause": "crashloop_backoff"}))


def test_server_answer_without_choices_is_a_bad_response() -> None:
    with pytest.raises(LMResponseError, match="no chat completion"):
        make_analyzer(lambda r: httpx.Response(200, json={"oops": True})).analyze(LOGS)


def test_log_entry_needs_only_timestamp_and_message() -> None:
    entry = LogEntry(timestamp="t", message="kubelet: node pressure", node="n1", extra_field="ignored")
    assert entry.pod == "" and entry.namespace == ""
