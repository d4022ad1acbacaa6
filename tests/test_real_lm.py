"""End-to-end on the real embedded llama.cpp model (SmolLM2-135M): what a 135M model can do, not its accuracy.

Two short runs of the baseline are made once per module; the run-level commands (compare, leaderboard,
report, export-metrics) then work on those real run folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from external_tools import interrupt
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.data.taxonomy import load_taxonomy
from dspy_logeval.lm.server import free_port, port_in_use

pytestmark = pytest.mark.real_lm
BASELINE = "configs/baseline-smollm2-t01.yaml"
runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("real") / "runs"
    for _ in range(2):
        invoke("evaluate", BASELINE, "--limit", "3", "--runs-dir", str(runs))
    return runs


def _runs(runs_dir: Path) -> list[Path]:
    return sorted(p for p in runs_dir.iterdir() if p.is_dir())


def _records(run: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]


def test_evaluate_writes_a_full_run_folder(runs_dir: Path) -> None:
    run = _runs(runs_dir)[0]
    tax = load_taxonomy()
    records = _records(run)
    assert len(records) == 3
    for record in records:
        assert record["error"] is None and record["prompt_tokens"] > 0 and record["latency_ms"] > 0
        assert record["predicted"]["root_cause"] in tax.root_causes
        assert record["predicted"]["severity"] in tax.severities
        assert record["predicted"]["action_needed"] in tax.actions
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["quality"]["parse_failure_rate"] == 0.0 and metrics["n_samples"] == 3
    config = json.loads((run / "config.json").read_text())
    assert config["schema_enforced"] is True and len(config["model_sha256"]) == 64
    assert config["dataset"]["version"] == "golden-v2" and len(config["dataset"]["sha256"]) == 64
    assert (run / "report.html").stat().st_size > 1000 and (run / "summary.md").is_file()
    assert set(metrics["floors"]) == {"majority", "nearest", "rules"}
    lift = metrics["lift_over_floor"]["root_cause_exact_match"]
    assert lift["floor"] in metrics["floors"] and lift["ci"][0] <= lift["lift"] <= lift["ci"][1]
    assert all(set(record["floors"]) == {"majority", "nearest", "rules"} for record in records)
    assert "No-LLM floors" in (run / "summary.md").read_text() and 'id="floors"' in (run / "report.html").read_text()


def test_same_config_twice_gives_identical_predictions(runs_dir: Path) -> None:
    first, second = (_records(run) for run in _runs(runs_dir))
    assert [r["predicted"] for r in first] == [r["predicted"] for r in second]


def test_compare_two_identical_runs(runs_dir: Path) -> None:
    first, second = _runs(runs_dir)
    output = invoke("compare", str(first), str(second), "--markdown", "--runs-dir", str(runs_dir))
    assert "no significant difference" in output.lower()


def test_leaderboard_report_and_export_metrics(runs_dir: Path) -> None:
    output = invoke("leaderboard", "--runs-dir", str(runs_dir))
    rows = json.loads((runs_dir.parent / "leaderboard.json").read_text())["rows"]
    assert "Leaderboard" in output and len(rows) == 2
    assert {row["experiment_id"] for row in rows} == {"baseline-smollm2-t01"}
    run = _runs(runs_dir)[0]
    invoke("report", str(run), "--runs-dir", str(runs_dir))
    text = invoke("export-metrics", "--all", "--format", "prometheus", "--runs-dir", str(runs_dir))
    names = {family.name for family in text_string_to_metric_families(text)}
    assert any("composite" in name for name in names)


def test_optimize_tiny_budget_then_reload_reproduces(tmp_path: Path) -> None:
    runs, compiled = tmp_path / "runs", tmp_path / "compiled"
    output = invoke("optimize", "configs/predict-smollm2.yaml", "--max-bootstrapped-demos", "1",
                    "--max-labeled-demos", "1", "--train-limit", "3", "--test-limit", "2",
                    "--runs-dir", str(runs), "--compiled-dir", str(compiled))
    assert "verdict:" in output
    (saved,) = compiled.glob("*-bootstrap.json")
    compiled_run = next(p for p in runs.iterdir() if "-bootstrap" in p.name)
    invoke("evaluate", "--compiled", str(saved), "--split", "test", "--limit", "2", "--runs-dir", str(runs))
    reloaded_run = next(p for p in runs.iterdir() if p.name.endswith("-compiled"))
    assert [r["predicted"] for r in _records(reloaded_run)] == [r["predicted"] for r in _records(compiled_run)]


def test_optimize_with_a_teacher_on_its_own_server(tmp_path: Path) -> None:
    """Two embedded servers in one command (student and teacher), a budget that stops bootstrapping early."""
    runs, compiled = tmp_path / "runs", tmp_path / "compiled"
    output = invoke("optimize", "configs/predict-smollm2.yaml", "--teacher", "configs/structured-smollm2.yaml",
                    "--max-bootstrapped-demos", "1", "--max-labeled-demos", "0", "--max-attempts", "2",
                    "--train-limit", "4", "--test-limit", "2", "--runs-dir", str(runs), "--compiled-dir", str(compiled))
    assert "verdict:" in output
    (saved,) = compiled.glob("*-bootstrap.manifest.json")
    manifest = json.loads(saved.read_text())
    assert 1 <= manifest["bootstrap"]["attempts"] <= 2 and manifest["bootstrap"]["pass_rule"] == ["root_cause",
                                                                                                   "severity"]
    assert manifest["teacher"]["config"]["experiment_id"] == "structured-smollm2"
    assert manifest["teacher"]["endpoint"] == "embedded" and len(manifest["teacher"]["model_sha256"]) == 64
    assert manifest["wall_seconds"] > 0


def test_sweep_two_configs(tmp_path: Path) -> None:
    output = invoke("sweep", "configs/predict-smollm2.yaml", "configs/structured-smollm2.yaml", "--limit", "1",
                    "--runs-dir", str(tmp_path / "runs"))
    assert "predict-smollm2" in output and "structured-smollm2" in output


def test_lm_list_and_pull() -> None:
    listing = invoke("lm", "list")
    assert "smollm2-135m-instruct" in listing and "Apache-2.0" in listing and "b179c9523d0e6a0f" in listing
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in invoke("lm", "pull")


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_lm_serve_answers_and_stops_on_ctrl_c() -> None:
    port = free_port()
    with subprocess.Popen([sys.executable, "-m", "dspy_logeval.cli.app", "lm", "serve", "--port", str(port)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ}) as proc:
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not _healthy(port):
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.3)
            response = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=60, json={
                "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 8, "temperature": 0})
            assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"]
        finally:
            code = interrupt(proc, timeout=60)
    assert code == 0
    time.sleep(0.5)
    assert not port_in_use(port)
