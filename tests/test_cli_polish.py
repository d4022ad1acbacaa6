"""The CLI's shared conventions: --version, an example in every help, enum choices with one error style,
machine-readable --format json, full run ids, and `evaluate` ending with the report path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer.main
from conftest import MINI_GOLDEN, VALID_ANALYSIS
from rich.console import Console
from runs_factory import SAMPLES, make_run, record, wrong
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.cli.common import ProgramChoice, SortChoice
from dspy_logeval.cli.runs import leaderboard_table
from dspy_logeval.runs.metric_keys import BY_NAME
from dspy_logeval.runs.ranking import SORTABLE
from programs import PROGRAMS

runner = CliRunner()


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def test_version_prints_package_and_commit() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("dspy-logeval ")


def test_every_command_has_an_example() -> None:
    missing = [name for name, cmd in _commands(typer.main.get_command(app)) if "Example: logeval" not in cmd.help]
    assert not missing, missing


def test_choices_come_from_the_engine_tables() -> None:
    assert {c.value for c in ProgramChoice} == set(PROGRAMS)
    assert tuple(c.value for c in SortChoice) == SORTABLE
    assert all(name in BY_NAME for name in SORTABLE if name != "run_timestamp")


@pytest.mark.parametrize("args", [
    ["leaderboard", "--sort", "vibes"], ["export-metrics", "--format", "xml"], ["compare", "a", "b", "--format", "xml"],
    ["export", "--template", "root_cause_v1", "--name", "n", "--program", "vibes"], ["lm", "serve", "--model", "gpt-9"],
    ["evaluate", "--split", "holdout"], ["export", "x", "--name", "n", "--split", "holdout"],
])
def test_bad_choices_fail_the_same_way(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "is not one of" in result.output and "Traceback" not in result.output


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    make_run(runs, "good", [record(s) for s in SAMPLES], stamp="20250101-100000")
    make_run(runs, "bad", [record(s, wrong(s)) for s in SAMPLES], stamp="20250102-100000")
    make_run(runs, "other", [record(s) for s in SAMPLES], stamp="20250103-100000", dataset_version="golden-v2")
    return runs


def test_leaderboard_json_ranks_within_dataset_and_split(runs_dir: Path) -> None:
    result = runner.invoke(app, ["leaderboard", "--format", "json", "--sort", "accuracy", "--runs-dir", str(runs_dir)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["sort"] == "accuracy"
    assert [(r["experiment_id"], r["rank"]) for r in doc["rows"]] == [("other", 1), ("good", 1), ("bad", 2)]
    only = runner.invoke(app, ["leaderboard", "--format", "json", "--dataset", "golden-v1", "--limit", "1",
                               "--runs-dir", str(runs_dir)])
    assert [r["run_id"] for r in json.loads(only.output)["rows"]] == ["20250101-100000-good"]


def test_compare_json_is_one_document(runs_dir: Path) -> None:
    result = runner.invoke(app, ["compare", "good", "bad", "--format", "json", "--runs-dir", str(runs_dir)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["run_a"] == "20250101-100000-good" and doc["verdict"].startswith("worse")
    assert {d["name"] for d in doc["deltas"]} >= {"composite", "root_cause"}


def test_tables_never_cut_run_ids() -> None:
    run_id = "20261205-104242-a-very-long-experiment-id-that-would-be-cut-short"
    rows = [{"run_id": run_id, "model_name": "qwen2.5-coder-1.5b-instruct", "accuracy": 0.5, "rank": 1,
             "composite": 0.61, "avg_latency_ms": 4213.0, "cost_usd": 0.0}]
    for width in (80, 120, 200):
        console = Console(width=width, record=True)
        console.print(leaderboard_table(rows, title="t", width=width))
        text = console.export_text()
        assert "50.0%" in text and "0.610" in text and "…" not in text, text
        assert run_id in text if width > 80 else run_id[:40] in text and "-would-be-cut-short" in text  # folded
        assert ("4213 ms" in text) == (width >= 120) and ("qwen2.5-coder-1.5b-instruct" in text) == (width == 200)
        assert "not shown at this width:" in text or width == 200


class _FakeLlamaServer(BaseHTTPRequestHandler):
    """/health and an OpenAI chat completion that always answers VALID_ANALYSIS."""

    def do_GET(self) -> None:
        self._send({"status": "ok"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._send({"id": "x", "object": "chat.completion", "created": 0, "model": "fake",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": json.dumps(VALID_ANALYSIS)}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})

    def _send(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_evaluate_ends_with_the_report_path_and_keeps_prompts(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _FakeLlamaServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tmp_path / "exp.yaml"
    config.write_text(f"experiment_id: fake\ndataset: {{version: {MINI_GOLDEN}, split: all}}\n"
                      f"model: {{endpoint: 'http://127.0.0.1:{server.server_port}', name: fake}}\n")
    try:
        result = runner.invoke(app, ["evaluate", str(config), "--limit", "2", "--runs-dir", str(tmp_path / "runs")])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("report: ") and last.endswith("report.html") and Path(last[8:]).is_file()
    run = Path(last[8:]).parent
    records = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert all(r["prompt_hash"] and json.loads(r["raw_completion"]) == VALID_ANALYSIS for r in records)
    assert (run / "prompts.jsonl").is_file() and (tmp_path / "leaderboard.html").is_file()
