"""The production API under faults: secrets in error bodies, bearer-token auth, absurd JSON, the LM key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_openai import FakeOpenAI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from test_analyzer import make_artifact
from test_api import LINE, FakeAnalyzer, client_for

from dspy_logeval.core.errors import ModelUnavailable
from dspy_logeval.serve.analyzer import AnalyzerSettings, LogAnalyzer

SECRET = "S3cr3tP4ss"


def counts(client: TestClient) -> dict[tuple[str, str], float]:
    """(series, status or code) → value from /metrics."""
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            key = sample.labels.get("status") or sample.labels.get("code")
            if key and sample.name.endswith("_total"):
                out[(sample.name, key)] = sample.value
    return out


def test_503_body_never_carries_the_endpoints_credentials(tmp_path: Path) -> None:
    error = ModelUnavailable(f"the LM at http://admin:{SECRET}@llm:8080 is unavailable after 3 attempt(s): "
                             f"ConnectError at http://llm:8080/v1?api_key={SECRET}")
    response = client_for(FakeAnalyzer(error), tmp_path).post("/v1/analyze", json={"logs": [LINE]})
    assert response.status_code == 503 and response.json()["error"]["code"] == "lm_unavailable"
    assert SECRET not in response.text
    assert "http://***@llm:8080" in response.text and "api_key=***" in response.text


def test_503_from_a_real_analyzer_on_a_credentialed_url_is_redacted(tmp_path: Path) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="loading"))
    analyzer = LogAnalyzer(f"http://admin:{SECRET}@llm:8080", "fake-model",
                           AnalyzerSettings(retries=0, backoff=0.0, timeout=5), make_artifact(),
                           async_client=httpx.AsyncClient(transport=transport))
    response = client_for(analyzer, tmp_path).post("/v1/analyze", json={"logs": [LINE]})
    assert response.status_code == 503 and SECRET not in response.text and "***@llm:8080" in response.text


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_absurdly_nested_json_is_422_and_counted(tmp_path: Path, depth: int) -> None:
    client = client_for(FakeAnalyzer(), tmp_path)
    body = b'{"logs": ' + b"[" * depth + b"]" * depth + b"}"
    response = client.post("/v1/analyze", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {"malformed_json", "invalid_request"}
    metrics = counts(client)
    assert metrics[("logeval_analyze_requests_total", "422")] == 1
    assert sum(v for (name, _), v in metrics.items() if name == "logeval_analyze_errors_total") == 1


def _token_client(tmp_path: Path, analyzer: Any = None, **kwargs: Any) -> TestClient:
    return client_for(analyzer or FakeAnalyzer(), tmp_path, **kwargs)


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dG9rZW4=", "t0ken-xyz", "Bearer t0ken-xy"])
def test_analyze_without_the_right_token_is_401(tmp_path: Path, header: str | None) -> None:
    analyzer = FakeAnalyzer()
    client = _token_client(tmp_path, analyzer, api_token="t0ken-xyz")
    headers = {"authorization": header} if header else {}
    response = client.post("/v1/analyze", json={"logs": [LINE]}, headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer" and "t0ken-xyz" not in response.text
    assert analyzer.seen == []  # refused before the body was even read
    assert counts(client)[("logeval_analyze_requests_total", "401")] == 1


def test_token_from_the_environment_guards_analyze_and_leaderboard_not_health_or_metrics(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGEVAL_API_TOKEN", "env-t0ken")
    client = _token_client(tmp_path)
    auth = {"authorization": "Bearer env-t0ken"}
    assert client.post("/v1/analyze", json={"logs": [LINE]}).status_code == 401
    assert client.post("/v1/analyze", json={"logs": [LINE]}, headers=auth).status_code == 200
    assert client.get("/api/evals/leaderboard").status_code == 401
    assert client.get("/api/evals/leaderboard", headers=auth).status_code == 200
    assert client.get("/health").status_code == 200 and client.get("/metrics").status_code == 200


def test_no_token_means_an_open_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGEVAL_API_TOKEN", raising=False)
    assert _token_client(tmp_path).post("/v1/analyze", json={"logs": [LINE]}).status_code == 200


def test_lm_api_key_is_sent_as_a_bearer_token(tmp_path: Path) -> None:
    with FakeOpenAI() as lm:
        analyzer = LogAnalyzer(lm.url, "fake-model", AnalyzerSettings(retries=0, timeout=5), make_artifact(),
                               api_key="lm-k3y")
        response = client_for(analyzer, tmp_path, api_token="").post("/v1/analyze", json={"logs": [LINE]})
        analyzer.analyze("one line")
    assert response.status_code == 200 and "lm-k3y" not in response.text
    assert lm.auth_headers == ["Bearer lm-k3y", "Bearer lm-k3y"]  # the API's async client and the sync one
