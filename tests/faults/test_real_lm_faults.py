"""On the real embedded model: kill -9 the llama.cpp child mid-run; the run stops, keeps, and resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.real_lm
ROOT = Path(__file__).resolve().parents[2]


def _server_child(parent: int) -> int | None:
    found = subprocess.run(["pgrep", "-f", f"dspy_logeval.lm.server .*--parent {parent}"], capture_output=True,
                           text=True, check=False).stdout.split()
    return int(found[0]) if found else None


def _logeval(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dspy_logeval.cli.app", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})


def test_a_dying_lm_stops_the_run_and_resume_finishes_it(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    proc = _logeval("evaluate", "configs/baseline-smollm2-t01.yaml", "--limit", "6", "--runs-dir", str(runs))
    with proc:
        deadline = time.monotonic() + 900  # generous: a busy 2-core machine may take a minute a sample
        while time.monotonic() < deadline and proc.poll() is None:
            results = list(runs.glob("*/results.jsonl"))
            if results and len(results[0].read_text().splitlines()) >= 2:
                break
            time.sleep(0.2)
        child = _server_child(proc.pid)
        assert child is not None, "no embedded llama.cpp child found"
        os.kill(child, signal.SIGKILL)
        output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 1, output
    assert "failed on the LM side" in output and "--resume" in output and "Traceback" not in output
    (run,) = [p for p in runs.iterdir() if p.is_dir()]
    kept = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert len(kept) >= 2 and all(r["error_kind"] not in ("transport", "server") for r in kept)
    failures = [json.loads(line) for line in (run / "failures.jsonl").read_text().splitlines()]
    assert failures and {f["error_kind"] for f in failures} <= {"transport", "server", "bad_response", "timeout"}
    assert json.loads((run / "state.json").read_text())["status"] == "incomplete"
    assert json.loads((run / "metrics.json").read_text())["n_errors"] == 0  # the dead LM is no model error
    board = tmp_path / "leaderboard.json"
    assert not board.exists() or run.name not in board.read_text()
    resumed = _logeval("evaluate", "--resume", run.name, "--runs-dir", str(runs))
    with resumed:
        output = resumed.communicate(timeout=600)[0]
    assert resumed.returncode == 0, output
    assert len((run / "results.jsonl").read_text().splitlines()) == 6
    assert json.loads((run / "state.json").read_text())["status"] == "complete"
    assert run.name in board.read_text()
