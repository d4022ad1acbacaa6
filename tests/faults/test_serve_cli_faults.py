"""`logeval serve` / `logeval lm serve` faults: bad and taken ports, the LM key from the environment, secrets."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fake_openai import FakeOpenAI
from fastapi.testclient import TestClient
from test_api import LINE
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.export.artifact import export_prompt, source_from_template

SECRET = "S3cr3tP4ss"


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    export_prompt(source_from_template("root_cause_v1"), name="unit", prompts_dir=tmp_path / "prompts")
    return tmp_path / "prompts"


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def serve(prompts: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["serve", "--prompt", "unit", "--prompts-dir", str(prompts), *args])


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("command", [["serve"], ["lm", "serve"]])
@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_port_out_of_range_is_a_usage_error(command: list[str], port: str) -> None:
    result = CliRunner().invoke(app, [*command, "--port", port])
    assert result.exit_code == 2  # typer's range check, as every bounded option of the CLI
    assert "Invalid value for '--port'" in result.output and "Traceback" not in result.output


def test_serve_on_a_taken_port_is_one_line_before_the_lm_starts(prompts: Path, taken_port: int) -> None:
    before = files_in(prompts.parent)
    with FakeOpenAI() as lm:
        result = serve(prompts, "--endpoint", lm.url, "--port", str(taken_port))
    assert result.exit_code == 1
    assert f"error: cannot listen on 127.0.0.1:{taken_port}" in result.output and "pick another --port" in result.output
    assert "Traceback" not in result.output and lm.auth_headers == []
    assert files_in(prompts.parent) == before


def test_serve_on_an_address_this_machine_lacks_is_one_line(prompts: Path) -> None:
    result = serve(prompts, "--host", "192.0.2.1", "--port", "8000")
    assert result.exit_code == 1 and "error: cannot listen on 192.0.2.1:8000" in result.output


def test_lm_serve_on_a_taken_port_is_one_line(tmp_path: Path, taken_port: int) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    result = CliRunner().invoke(app, ["lm", "serve", "--file", str(model), "--port", str(taken_port)])
    assert result.exit_code == 1
    assert f"error: port {taken_port} is already in use" in result.output and "Traceback" not in result.output


def test_uvicorn_failing_to_bind_after_the_check_is_one_line(prompts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise SystemExit(3)

    monkeypatch.setattr(uvicorn, "run", fail)
    with FakeOpenAI() as lm:
        result = serve(prompts, "--endpoint", lm.url, "--port", "8765")
    assert result.exit_code == 1
    assert "error: the API could not start on 127.0.0.1:8765" in result.output and "Traceback" not in result.output


def test_api_key_env_unset_is_one_line(prompts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LM_KEY_FOR_TEST", raising=False)
    with FakeOpenAI() as lm:
        result = serve(prompts, "--endpoint", lm.url, "--api-key-env", "LM_KEY_FOR_TEST")
    assert result.exit_code == 1 and "error: environment variable LM_KEY_FOR_TEST" in result.output


def _serve_one_request(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make uvicorn.run send one /v1/analyze through the app instead of serving forever; returns the statuses."""
    answers: list[int] = []

    def run_once(api: Any, **kwargs: Any) -> None:
        answers.append(TestClient(api).post("/v1/analyze", json={"logs": [LINE]}).status_code)

    monkeypatch.setattr(uvicorn, "run", run_once)
    return answers


def test_api_key_env_reaches_the_lm_and_no_output(prompts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LM_KEY_FOR_TEST", "lm-S3cr3tK3y")
    answers = _serve_one_request(monkeypatch)
    with FakeOpenAI() as lm:
        result = serve(prompts, "--endpoint", lm.url, "--api-key-env", "LM_KEY_FOR_TEST", "--port", "8766")
    assert result.exit_code == 0, result.output
    assert answers == [200] and lm.auth_headers == ["Bearer lm-S3cr3tK3y"]
    assert "lm-S3cr3tK3y" not in result.output and files_in(prompts.parent) == ["prompts/unit.json"]
    assert "lm-S3cr3tK3y" not in (prompts / "unit.json").read_text()


def test_serve_prints_a_credentialed_endpoint_redacted(prompts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = _serve_one_request(monkeypatch)
    with FakeOpenAI() as lm:
        url = lm.url.replace("http://", f"http://admin:{SECRET}@")
        result = serve(prompts, "--endpoint", url, "--port", "8767")
    assert result.exit_code == 0, result.output
    assert answers == [200] and lm.auth_headers == ["Basic YWRtaW46UzNjcjN0UDRzcw=="]
    assert SECRET not in result.output and f"(LM at http://***@127.0.0.1:{lm.port})" in result.output


def test_serve_restarts_its_embedded_child(prompts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`logeval serve` on the embedded LM (its child swapped for the fake server): kill the child mid-serve."""
    from dspy_logeval.lm import endpoint as endpoint_module
    from dspy_logeval.lm.server import EmbeddedServer

    started: list[EmbeddedServer] = []
    original_start = EmbeddedServer.start

    def tracked_start(self: EmbeddedServer) -> None:
        started.append(self)
        original_start(self)

    fake_server = Path(__file__).with_name("fake_openai.py")
    monkeypatch.setattr(endpoint_module, "model_file", lambda model: (tmp_path / "fake.gguf", "0" * 64))
    monkeypatch.setattr(EmbeddedServer, "command", lambda self: [sys.executable, str(fake_server), str(self.port)])
    monkeypatch.setattr(EmbeddedServer, "start", tracked_start)
    seen: list[Any] = []

    def run_and_kill(api: Any, **kwargs: Any) -> None:
        client = TestClient(api)
        seen.append(client.post("/v1/analyze", json={"logs": [LINE]}).status_code)
        child = started[0].proc
        assert child is not None
        child.kill()
        child.wait()
        seen.append(client.post("/v1/analyze", json={"logs": [LINE]}).status_code)
        seen.append(client.get("/health").json()["lm_restarts"])

    monkeypatch.setattr(uvicorn, "run", run_and_kill)
    result = serve(prompts, "--port", "8768")
    assert result.exit_code == 0, result.output
    assert seen == [200, 200, 1] and len(started) == 2 and started[0] is started[1]  # one server, started twice
    assert not started[0].alive()  # and stopped with serve
