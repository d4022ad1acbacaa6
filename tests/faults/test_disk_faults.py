"""A full disk mid-run and an unwritable runs folder end with one line, keep what is written, and resume."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from conftest import MINI_GOLDEN
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.core.config import validate_config
from dspy_logeval.core.errors import RunError, RunStopped
from dspy_logeval.eval.runner import evaluate_experiment
from dspy_logeval.runs.folder import RunFolder, list_runs

runner = CliRunner()


def _config() -> object:
    return validate_config({"experiment_id": "disk", "dataset": {"version": str(MINI_GOLDEN), "split": "all"},
                            "model": {"endpoint": "http://127.0.0.1:9", "name": "fake"}}, source="t")


def test_disk_full_mid_run_stops_with_one_line_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_runner import fake_lm

    real_fsync, calls = os.fsync, {"results": 0}

    def full_after_two(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("results.jsonl"):
            calls["results"] += 1
            if calls["results"] == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_after_two)
    with pytest.raises(RunStopped, match="No space left on device.*records kept"):
        evaluate_experiment(_config(), runs_dir=tmp_path / "runs", lm=fake_lm())
    monkeypatch.setattr(os, "fsync", real_fsync)
    (run,) = list_runs(tmp_path / "runs")
    assert json.loads((run.path / "state.json").read_text())["status"] == "incomplete"
    kept = len(run.records())
    assert 2 <= kept <= 3
    resumed = evaluate_experiment(_config(), runs_dir=tmp_path / "runs", lm=fake_lm(), resume=RunFolder(run.path))
    assert len(resumed.records()) == 5 and resumed.state().status == "complete"


def test_an_unwritable_runs_folder_fails_before_any_model_starts(tmp_path: Path) -> None:
    blocker = tmp_path / "artifacts"
    blocker.write_text("a file where the runs folder's parent should be")  # unwritable even for root
    with pytest.raises(RunError, match="cannot write run folders"):
        evaluate_experiment(_config(), runs_dir=blocker / "runs")  # the endpoint is never contacted
    result = runner.invoke(app, ["evaluate", "--dataset", str(MINI_GOLDEN), "--runs-dir", str(blocker / "runs")])
    assert result.exit_code == 1 and "error: cannot write run folders" in result.output


def test_a_wrong_typed_metrics_json_does_not_break_the_leaderboard(tmp_path: Path) -> None:
    from runs_factory import SAMPLES, make_run, record

    runs = tmp_path / "runs"
    make_run(runs, "good", [record(s) for s in SAMPLES])
    bad = make_run(runs, "bad", [record(s) for s in SAMPLES], stamp="20250102-120000")
    (bad.path / "metrics.json").write_text(json.dumps({"accuracy": "high", "composite": [1]}))
    result = runner.invoke(app, ["leaderboard", "--runs-dir", str(runs), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "20250101-120000-good" in result.output and "Traceback" not in result.output


def test_an_unwritable_leaderboard_is_one_line(tmp_path: Path) -> None:
    from runs_factory import SAMPLES, make_run, record

    runs = tmp_path / "runs"
    make_run(runs, "good", [record(s) for s in SAMPLES])
    (tmp_path / "leaderboard.json.lock").mkdir()  # the lock file cannot be opened
    result = runner.invoke(app, ["leaderboard", "--runs-dir", str(runs)])
    assert result.exit_code == 1 and "error: cannot update the leaderboard" in result.output
    assert "Traceback" not in result.output
