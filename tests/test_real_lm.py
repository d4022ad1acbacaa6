"""End-to-end on the real embedded llama.cpp model (SmolLM2-135M): what a 135M model can do, not its accuracy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dspy_logeval.cli import app
from dspy_logeval.config import load_config
from dspy_logeval.lm_server import free_port, port_in_use
from dspy_logeval.runner import EvalRequest, evaluate_experiment
from dspy_logeval.taxonomy import load_taxonomy

pytestmark = pytest.mark.real_lm
BASELINE = "configs/baseline-smollm2-t01.yaml"


def test_evaluate_command_on_embedded_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["evaluate", BASELINE, "--limit", "3", "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "root cause exact match" in result.output and "run folder:" in result.output
    (run_dir,) = (tmp_path / "runs").iterdir()
    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    tax = load_taxonomy()
    assert len(records) == 3
    for record in records:
        assert record["error"] is None and record["prompt_tokens"] > 0 and record["latency_ms"] > 0
        assert record["predicted"]["root_cause"] in tax.root_causes
        assert record["predicted"]["severity"] in tax.severities
        assert record["predicted"]["action_needed"] in tax.actions
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["quality"]["parse_failure_rate"] == 0.0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["schema_enforced"] is True and len(config["model_sha256"]) == 64
    assert config["dataset"]["version"] == "golden-v1" and (run_dir / "report.html").stat().st_size > 1000


def test_same_config_twice_gives_identical_predictions(tmp_path: Path) -> None:
    config = load_config(BASELINE)
    runs = [evaluate_experiment(config, runs_dir=tmp_path, request=EvalRequest(limit=3)) for _ in range(2)]
    first, second = ([r["predicted"] for r in run.records()] for run in runs)
    assert first == second


def test_lm_serve_answers_and_stops_on_ctrl_c() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dspy_logeval.cli", "lm", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not port_in_use(port):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.3)
        response = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=60, json={
            "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 8, "temperature": 0})
        assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"]
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    assert code == 0
    time.sleep(0.5)
    assert not port_in_use(port)
