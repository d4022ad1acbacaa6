"""Faults of the LM side never become numbers: HTML or 501 replies, a hung endpoint, a server that dies."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import MINI_GOLDEN
from faults.scripted_openai import FakeOpenAI
from typer.testing import CliRunner

from dspy_logeval.cli.app import app

runner = CliRunner()


def _config(tmp_path: Path, url: str, **runtime: float) -> str:
    settings = ", ".join(f"{k}: {v}" for k, v in {"retries": 0, **runtime}.items())
    path = tmp_path / "exp.yaml"
    path.write_text(f"experiment_id: fault\ndataset: {{version: {MINI_GOLDEN}, split: all}}\n"
                    f"model: {{endpoint: '{url}', name: fake}}\nruntime: {{{settings}}}\n")
    return str(path)


def _evaluate(tmp_path: Path, *args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    result = runner.invoke(app, ["evaluate", *args, "--runs-dir", str(tmp_path / "runs")])
    return result.exit_code, result.output, time.monotonic() - started


def _run(tmp_path: Path) -> Path:
    (run,) = sorted((tmp_path / "runs").iterdir())
    return run


def _lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_html_replies_end_the_run_before_its_first_sample(tmp_path: Path) -> None:
    with FakeOpenAI(lambda i, body: "html", probe="html") as fake:
        code, output, _ = _evaluate(tmp_path, _config(tmp_path, fake.url))
    assert code == 1 and "is not an OpenAI-compatible server" in output and "text/html" in output
    assert "Traceback" not in output and not (tmp_path / "runs").exists()


def test_a_hung_endpoint_ends_the_run_quickly_and_says_what_hung(tmp_path: Path) -> None:
    with FakeOpenAI(lambda i, body: "hang", probe="hang") as fake:
        code, output, seconds = _evaluate(tmp_path, _config(tmp_path, fake.url, first_request_timeout=2))
    assert code == 1 and "did not answer a one-word question within 2 s (hung)" in output
    assert seconds < 15 and not (tmp_path / "runs").exists()


def test_a_hang_mid_run_is_caught_by_the_watchdog_and_resumed(tmp_path: Path) -> None:
    with FakeOpenAI(lambda i, body: "ok" if i < 2 else "hang") as fake:
        code, output, seconds = _evaluate(tmp_path, _config(tmp_path, fake.url, stall_timeout=2))
        port = fake.port
    assert code == 1 and "no sample finished in 2 s" in output and "(hung)" in output and seconds < 20
    run = _run(tmp_path)
    assert len(_lines(run / "results.jsonl")) == 2
    assert json.loads((run / "state.json").read_text())["status"] == "incomplete"
    with FakeOpenAI(lambda i, body: "ok", port=port):  # the same endpoint, recovered
        code, output, _ = _evaluate(tmp_path, "--resume", run.name)
    assert code == 0, output
    assert len(_lines(run / "results.jsonl")) == 5
    assert json.loads((run / "state.json").read_text())["status"] == "complete"


def test_501_replies_stop_the_run_and_never_reach_metrics(tmp_path: Path) -> None:
    with FakeOpenAI(lambda i, body: "ok" if i < 1 else "501") as fake:
        code, output, _ = _evaluate(tmp_path, _config(tmp_path, fake.url))
    assert code == 1 and "3 requests in a row failed on the LM side" in output and "Not Implemented" in output
    run = _run(tmp_path)
    assert [r["error"] for r in _lines(run / "results.jsonl")] == [None]
    assert [r["error_kind"] for r in _lines(run / "failures.jsonl")] == ["server"] * 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_samples"] == 1 and metrics["n_errors"] == 0
    board = tmp_path / "leaderboard.json"
    assert not board.exists() or run.name not in board.read_text()


def test_a_stray_lm_failure_leaves_the_run_incomplete_until_resumed(tmp_path: Path) -> None:
    with FakeOpenAI(lambda i, body: "501" if i == 1 else "ok") as fake:
        config = _config(tmp_path, fake.url)
        code, output, _ = _evaluate(tmp_path, config)
        assert code == 1 and "run incomplete: 1 of 5 samples failed on the LM side" in output
        run = _run(tmp_path)
        assert len(_lines(run / "results.jsonl")) == 4 and len(_lines(run / "failures.jsonl")) == 1
        code, output, _ = _evaluate(tmp_path, "--resume", run.name)
    assert code == 0, output
    assert len(_lines(run / "results.jsonl")) == 5
    assert run.name in (tmp_path / "leaderboard.json").read_text()


@pytest.mark.parametrize("after", [0, 2])
def test_ctrl_c_stops_within_two_seconds_and_keeps_what_is_done(tmp_path: Path, after: int) -> None:
    import os
    import signal
    import subprocess
    import sys

    with FakeOpenAI(lambda i, body: "slow", slow_seconds=1.0) as fake:
        config = _config(tmp_path, fake.url, request_timeout=120)
        proc = subprocess.Popen([sys.executable, "-m", "dspy_logeval.cli.app", "evaluate", config, "--runs-dir",
                                 str(tmp_path / "runs")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
        with proc:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                results = list((tmp_path / "runs").glob("*/results.jsonl"))
                if results and len(results[0].read_text().splitlines()) >= after:
                    break
                time.sleep(0.1)
            time.sleep(0.3)  # a request is in flight now
            proc.send_signal(signal.SIGINT)
            sent = time.monotonic()
            output = proc.communicate(timeout=30)[0].decode()
            waited = time.monotonic() - sent
    assert proc.returncode == 130 and "interrupted" in output and "--resume" in output, output
    assert waited < 2.0, f"Ctrl-C took {waited:.1f} s"
    run = _run(tmp_path)
    assert len(_lines(run / "results.jsonl")) >= after
    assert json.loads((run / "state.json").read_text())["status"] == "incomplete"
