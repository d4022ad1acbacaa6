"""compare / leaderboard / report / export-metrics through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from runs_factory import SAMPLES, make_run, record
from typer.testing import CliRunner

from dspy_logeval.cli.runs import register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    samples = [{**SAMPLES[i % 4], "sample_id": f"gv1-{i:03d}"} for i in range(8)]
    make_run(runs, "good", [record(s) for s in samples], stamp="20250101-100000")
    make_run(runs, "broken", [record(s, None) for s in samples], stamp="20250102-100000")
    make_run(runs, "other-data", [record(s) for s in samples], stamp="20250103-100000", sha256="zzz")
    return runs


def invoke(app: typer.Typer, *args: str) -> object:
    return CliRunner().invoke(app, list(args))


def test_compare_prints_table_and_verdict(app: typer.Typer, runs_dir: Path) -> None:
    result = invoke(app, "compare", "good", "broken", "--runs-dir", str(runs_dir))
    assert result.exit_code == 0, result.output
    assert "verdict: worse" in result.output and "composite" in result.output and "McNemar" in result.output


def test_compare_markdown(app: typer.Typer, runs_dir: Path) -> None:
    result = invoke(app, "compare", "good", "good", "--markdown", "--runs-dir", str(runs_dir))
    assert result.exit_code == 0 and "**Verdict: no significant difference at 95%**" in result.output


def test_compare_different_datasets_is_one_line(app: typer.Typer, runs_dir: Path) -> None:
    result = invoke(app, "compare", "good", "other-data", "--runs-dir", str(runs_dir))
    assert result.exit_code == 1 and "not comparable; pass --force" in result.output
    assert "Traceback" not in result.output
    forced = invoke(app, "compare", "good", "other-data", "--force", "--runs-dir", str(runs_dir))
    assert forced.exit_code == 0 and "warning:" in forced.output


def test_missing_run_id_is_one_line(app: typer.Typer, runs_dir: Path) -> None:
    result = invoke(app, "report", "nope", "--runs-dir", str(runs_dir))
    assert result.exit_code == 1 and "no run 'nope'" in result.output and "Traceback" not in result.output


def test_leaderboard_rebuilds_and_prints(app: typer.Typer, runs_dir: Path) -> None:
    result = invoke(app, "leaderboard", "--sort", "accuracy", "--limit", "2", "--runs-dir", str(runs_dir))
    assert result.exit_code == 0, result.output
    out = runs_dir.parent / "leaderboard.json"
    assert len(json.loads(out.read_text())["rows"]) == 3 and out.with_suffix(".html").is_file()
    assert "3 runs" in result.output and "Leaderboard by accuracy: golden-v1 / test" in result.output
    bad = invoke(app, "leaderboard", "--sort", "vibes", "--runs-dir", str(runs_dir))
    assert bad.exit_code == 2 and "'vibes' is not one of" in bad.output and "'accuracy'" in bad.output


def test_report_with_truncated_last_line(app: typer.Typer, runs_dir: Path) -> None:
    run = runs_dir / "20250101-100000-good"
    with (run / "results.jsonl").open("a") as fh:
        fh.write('{"sample_id": "gv1-999", "categ')
    result = invoke(app, "report", "good", "--runs-dir", str(runs_dir))
    assert result.exit_code == 0, result.output
    assert "1 unreadable line(s) in results.jsonl were lost" in result.output
    assert "accuracy=1.000" in result.output and "n=8" in result.output


def test_report_on_empty_run_is_one_line(app: typer.Typer, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "empty", [])
    result = invoke(app, "report", "empty", "--runs-dir", str(runs))
    assert result.exit_code == 1 and "no complete sample" in result.output
    assert "Traceback" not in result.output


def test_export_metrics_prometheus_json_and_all(app: typer.Typer, runs_dir: Path) -> None:
    latest = invoke(app, "export-metrics", "--runs-dir", str(runs_dir))
    assert latest.exit_code == 0 and 'experiment_id="other-data"' in latest.output
    assert 'experiment_id="good"' not in latest.output
    every = invoke(app, "export-metrics", "--all", "--format", "json", "--runs-dir", str(runs_dir))
    assert every.exit_code == 0 and len(json.loads(every.output)) == 3
    one = invoke(app, "export-metrics", "good", "--format", "json", "--runs-dir", str(runs_dir))
    assert [d["experiment_id"] for d in json.loads(one.output)] == ["good"]


def test_export_metrics_bad_push_and_empty_dir(app: typer.Typer, runs_dir: Path, tmp_path: Path) -> None:
    push = invoke(app, "export-metrics", "--format", "json", "--push-gateway", "http://127.0.0.1:9",
                  "--runs-dir", str(runs_dir))
    assert push.exit_code == 1 and "--push-gateway needs --format prometheus" in push.output
    empty = invoke(app, "export-metrics", "--all", "--runs-dir", str(tmp_path / "none"))
    assert empty.exit_code == 1 and "no scored runs" in empty.output
