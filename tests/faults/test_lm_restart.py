"""The API restarts its embedded LM child when it dies, a bounded number of times, and /health says so."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_analyzer import make_artifact
from test_api import LINE

from dspy_logeval.lm.server import EmbeddedServer, Supervisor
from dspy_logeval.serve.analyzer import AnalyzerSettings, LogAnalyzer
from dspy_logeval.serve.api import create_app

FAKE_SERVER = Path(__file__).with_name("fake_openai.py")


class FakeChild(EmbeddedServer):
    """An EmbeddedServer whose child is the fake OpenAI server; `broken` makes every later start crash."""

    broken = False

    def command(self) -> list[str]:
        if self.broken:
            return [sys.executable, "-c", "raise SystemExit(7)"]
        return [sys.executable, str(FAKE_SERVER), str(self.port)]


@pytest.fixture
def child(tmp_path: Path) -> Iterator[FakeChild]:
    with FakeChild(tmp_path / "fake.gguf") as server:
        yield server


def kill(server: EmbeddedServer) -> None:
    assert server.proc is not None
    server.proc.kill()
    server.proc.wait()


def api_on(server: EmbeddedServer, tmp_path: Path) -> tuple[TestClient, Supervisor]:
    guard = Supervisor(server, max_restarts=3, backoff=0.0)
    analyzer = LogAnalyzer(server.base_url, "fake", AnalyzerSettings(retries=0, backoff=0.0, timeout=5),
                           make_artifact())
    app = create_app(analyzer, {"name": "unit"}, leaderboard_path=tmp_path / "lb.json", api_token="",
                     lm_guard=guard)
    return TestClient(app, raise_server_exceptions=False), guard


def test_a_dead_child_is_restarted_and_the_request_answered(child: FakeChild, tmp_path: Path) -> None:
    client, guard = api_on(child, tmp_path)
    assert client.post("/v1/analyze", json={"logs": [LINE]}).status_code == 200
    kill(child)
    response = client.post("/v1/analyze", json={"logs": [LINE]})
    assert response.status_code == 200, response.text
    health = client.get("/health")
    assert health.status_code == 200 and health.json() | {"prompt": None} == {
        "status": "ok", "lm": True, "lm_restarts": 1, "prompt": None}
    assert child.alive() and guard.restarts == 1


def test_health_restarts_a_dead_child_too(child: FakeChild, tmp_path: Path) -> None:
    client, _ = api_on(child, tmp_path)
    kill(child)
    body = client.get("/health").json()
    assert body["lm"] is True and body["lm_restarts"] == 1


def test_restarts_are_bounded_then_health_stays_503(child: FakeChild, tmp_path: Path) -> None:
    client, guard = api_on(child, tmp_path)
    child.broken = True  # from now on every restart crashes at once
    kill(child)
    response = client.post("/v1/analyze", json={"logs": [LINE]})
    assert response.status_code == 503 and response.json()["error"]["code"] == "lm_unavailable"
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["status"] == "lm_unavailable" and health.json()["lm_restarts"] == 3
    assert guard.exhausted() and not child.alive()
    assert client.get("/health").json()["lm_restarts"] == 3  # no fourth attempt


class _DownGuard:
    restarts = 2

    def alive(self) -> bool:
        return False

    def exhausted(self) -> bool:
        return False

    def revive(self) -> bool:
        return False


def test_health_is_degraded_while_restarts_remain(tmp_path: Path) -> None:
    from test_api import FakeAnalyzer

    app = create_app(FakeAnalyzer(healthy=False), {"name": "unit"}, leaderboard_path=tmp_path / "lb.json",
                     lm_guard=_DownGuard())
    health = TestClient(app).get("/health")
    assert health.status_code == 503
    assert {k: health.json()[k] for k in ("status", "lm", "lm_restarts")} == {
        "status": "degraded", "lm": False, "lm_restarts": 2}
