"""MLflow tracking: what a run becomes (params, metrics with CI bounds, tags, artifacts), read back from a real
local tracking server that the test starts and stops; and a clear line when mlflow is missing."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import mini_config_dict
from external_tools import free_port
from runs_factory import SAMPLES, make_run, record
from test_gate import patch_config
from test_runner import fake_lm
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.core.config import validate_config
from dspy_logeval.core.errors import TrackingError
from dspy_logeval.eval.runner import EvalRequest, evaluate_experiment
from dspy_logeval.runs.tracking import flatten, lineage_tags, log_run, require_mlflow, run_metrics

HAS_MLFLOW = importlib.util.find_spec("mlflow") is not None


def _no_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))


def test_flatten_and_metrics_and_tags(tmp_path: Path) -> None:
    assert dict(flatten({"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": None, "f": {}})) == {
        "a.b": "1", "a.c": "[1, 2]", "d": "x", "e": "null", "f": "{}"}
    run = make_run(tmp_path, "exp", [record(s) for s in SAMPLES])
    metrics = run_metrics(run.metrics())
    assert metrics["composite"] == 1.0 and metrics["composite_ci_low"] == 1.0 and metrics["n_samples"] == 4.0
    tags = lineage_tags(run.config())
    assert tags["logeval.dataset_sha256"] == "abc123" and tags["logeval.git_commit"] == "3f2a9c1"
    assert "logeval.compiled_from" not in tags


def test_missing_mlflow_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_mlflow(monkeypatch)
    with pytest.raises(TrackingError, match=r"not installed: pip install 'dspy-logeval\[mlflow\]'"):
        require_mlflow()
    config = tmp_path / "mini.yaml"
    config.write_text(validate_config(mini_config_dict(), source="t").model_dump_json())
    result = CliRunner().invoke(app, ["evaluate", str(config), "--mlflow", "http://127.0.0.1:9",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1 and "error: --mlflow needs the mlflow package" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "runs").exists()  # refused before running


def test_unreachable_server_is_clear(tmp_path: Path) -> None:
    if not HAS_MLFLOW:
        message = "mlflow is not installed (pip install -e '.[test,mlflow]'; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    run = make_run(tmp_path, "exp", [record(s) for s in SAMPLES])
    with pytest.raises(TrackingError, match=f"MLflow tracking server http://127.0.0.1:{9} is not reachable"):
        log_run(run, "http://127.0.0.1:9")


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow tracking server (sqlite backend, local artifact root) on a free loopback port."""
    if not HAS_MLFLOW:
        message = "mlflow is not installed (pip install -e '.[test,mlflow]'; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    logfile = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--default-artifact-root", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"], stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(url, process, root / "server.log")
        yield url
    finally:
        os.killpg(process.pid, 15)  # the server runs its workers in the session it leads
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
        logfile.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"mlflow server at {url} not ready after {timeout} s: {log.read_text()[-2000:]}")


def _client(url: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=url)


def test_evaluate_logs_the_finished_run(mlflow_server: str, tmp_path: Path) -> None:
    config = validate_config(mini_config_dict(tracking={"mlflow_experiment": "mini-ci"}), source="t")
    run = evaluate_experiment(config, runs_dir=tmp_path / "runs", lm=fake_lm(),
                              request=EvalRequest(mlflow=mlflow_server))
    client = _client(mlflow_server)
    experiment = client.get_experiment_by_name("mini-ci")
    [logged] = client.search_runs([experiment.experiment_id])
    assert logged.info.run_name == run.run_id and logged.info.status == "FINISHED"
    data = logged.data
    assert data.params["program"] == "predict" and data.params["llm_config.temperature"] == "0.0"
    assert data.params["metrics.weights.root_cause"] == "0.35" and data.params["run.split"] == "all"
    metrics = run.metrics()
    assert data.metrics["composite"] == pytest.approx(metrics["composite"])
    assert data.metrics["composite_ci_low"] == pytest.approx(metrics["confidence_intervals"]["composite"][0])
    assert data.metrics["lift_composite"] == pytest.approx(metrics["lift_over_floor"]["composite"]["lift"])
    assert any(name.startswith("floor.") for name in data.metrics)
    record_ = run.config()
    assert data.tags["logeval.run_id"] == run.run_id and data.tags["logeval.experiment_id"] == "mini"
    assert data.tags["logeval.dataset_sha256"] == record_.dataset.sha256
    assert data.tags.get("logeval.git_commit") == record_.git_commit
    listed = {a.path for a in client.list_artifacts(logged.info.run_id, "run")}
    assert {"run/report.html", "run/metrics.json", "run/results.jsonl", "run/config.json"} <= listed


def test_compiled_run_logs_program_and_lineage(mlflow_server: str, tmp_path: Path) -> None:
    compiled = tmp_path / "compiled" / "20250101-exp-bootstrap.json"
    compiled.parent.mkdir()
    compiled.write_text("{}")
    compiled.with_name("20250101-exp-bootstrap.manifest.json").write_text("{}")
    run = make_run(tmp_path / "runs", "exp-bootstrap", [record(s) for s in SAMPLES])
    patch_config(run, lineage={"compiled": str(compiled), "compiled_from": "exp", "optimizer": "bootstrap"})
    mlflow_run = log_run(run, mlflow_server)
    client = _client(mlflow_server)
    logged = client.get_run(mlflow_run)
    assert logged.data.tags["logeval.compiled_from"] == "exp" and logged.data.tags["logeval.optimizer"] == "bootstrap"
    assert client.get_experiment(logged.info.experiment_id).name == "exp-bootstrap"
    listed = {a.path for a in client.list_artifacts(mlflow_run, "compiled")}
    assert listed == {"compiled/20250101-exp-bootstrap.json", "compiled/20250101-exp-bootstrap.manifest.json"}
