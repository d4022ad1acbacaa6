"""Leaderboard rebuild (atomic, locked), sorting, Pareto front and HTML."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from runs_factory import SAMPLES, make_run, record, wrong

from dspy_logeval.core.errors import RunError
from dspy_logeval.runs.leaderboard import (
    COLUMNS,
    pareto_front,
    ranked,
    read_leaderboard,
    rebuild_leaderboard,
    sort_rows,
    write_leaderboard_html,
)


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    make_run(runs, "fast-bad", [record(s, wrong(s), latency_ms=50) for s in SAMPLES], stamp="20250101-100000")
    make_run(runs, "slow-good", [record(s, latency_ms=900) for s in SAMPLES], stamp="20250102-100000")
    make_run(runs, "mid", [record(s) if i else record(s, wrong(s)) for i, s in enumerate(SAMPLES)],
             stamp="20250103-100000", program="cot")
    make_run(runs, "unscored", [record(s) for s in SAMPLES], stamp="20250104-100000", with_metrics=False)
    return runs


def test_rebuild_writes_one_row_per_scored_run(runs_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "leaderboard.json"
    rows = rebuild_leaderboard(runs_dir, out)
    assert [r["experiment_id"] for r in rows] == ["fast-bad", "slow-good", "mid"]
    assert set(COLUMNS) <= set(rows[0])
    assert rows[1]["accuracy"] == 1.0 and rows[0]["accuracy"] == 0.0 and rows[2]["accuracy"] == 0.75
    assert rows[2]["program"] == "cot" and rows[0]["run_timestamp"] == "2025-01-01T10:00:00+00:00"
    assert rows[0]["dataset_version"] == "golden-v1" and rows[0]["git_commit"] == "3f2a9c1"
    data = json.loads(out.read_text())
    assert data["format_version"] == 1 and data["rows"] == rows and read_leaderboard(out) == rows
    assert (tmp_path / "leaderboard.json.lock").exists()
    assert not list(tmp_path.glob(".leaderboard.json.*.tmp"))


def test_broken_metrics_json_is_skipped(runs_dir: Path, tmp_path: Path) -> None:
    (runs_dir / "20250101-100000-fast-bad" / "metrics.json").write_text("{not json")
    assert len(rebuild_leaderboard(runs_dir, tmp_path / "lb.json")) == 2


def test_concurrent_rebuilds_leave_a_complete_file(runs_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lb.json"
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            rebuild_leaderboard(runs_dir, out)
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=rebuild) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(read_leaderboard(out)) == 3


def test_sort_rows_best_first(runs_dir: Path, tmp_path: Path) -> None:
    rows = rebuild_leaderboard(runs_dir, tmp_path / "lb.json")
    assert [r["experiment_id"] for r in sort_rows(rows, "accuracy")] == ["slow-good", "mid", "fast-bad"]
    assert [r["experiment_id"] for r in sort_rows(rows, "avg_latency_ms")][0] == "fast-bad"
    rows[0]["cost_usd"] = None
    assert sort_rows(rows, "cost_usd")[-1]["experiment_id"] == "fast-bad"   # missing values last
    with pytest.raises(RunError, match="cannot sort by 'nope'"):
        sort_rows(rows, "nope")


def test_pareto_front() -> None:
    rows = [{"run_id": "a", "accuracy": 0.9, "avg_latency_ms": 900}, {"run_id": "b", "accuracy": 0.5,
            "avg_latency_ms": 100}, {"run_id": "c", "accuracy": 0.4, "avg_latency_ms": 500},
            {"run_id": "d", "accuracy": 0.7, "avg_latency_ms": 300}]
    assert [r["run_id"] for r in pareto_front(rows)] == ["b", "d", "a"]   # c is beaten by b and d


def test_leaderboard_html(runs_dir: Path, tmp_path: Path) -> None:
    rows = rebuild_leaderboard(runs_dir, tmp_path / "lb.json")
    html = write_leaderboard_html(rows, tmp_path / "lb.html").read_text()
    assert html.count("<svg") == 2 and "Pareto" in html and "Best config per metric" in html
    assert "#d62728" in html and "slow-good" in html and "fast-bad" in html


def test_rebuild_writes_leaderboard_html_beside_the_json(runs_dir: Path, tmp_path: Path) -> None:
    rebuild_leaderboard(runs_dir, tmp_path / "leaderboard.json")
    html = (tmp_path / "leaderboard.html").read_text()
    assert 'href="runs/20250102-100000-slow-good/report.html"' in html                 # relative, full run id
    assert not list(tmp_path.glob(".leaderboard.html.*.tmp"))


def test_no_mixed_ranking_across_dataset_versions(runs_dir: Path, tmp_path: Path) -> None:
    make_run(runs_dir, "v2-best", [record(s) for s in SAMPLES], stamp="20250105-100000", dataset_version="golden-v2")
    rows = rebuild_leaderboard(runs_dir, tmp_path / "lb.json")
    ranks = {r["experiment_id"]: (r["dataset_version"], r["rank"]) for r in ranked(rows, "accuracy")}
    assert ranks == {"v2-best": ("golden-v2", 1), "slow-good": ("golden-v1", 1), "mid": ("golden-v1", 2),
                     "fast-bad": ("golden-v1", 3)}
    html = (tmp_path / "lb.html").read_text()
    assert html.count('<section class="group"') == 2 and '<select id="grp"' in html
    assert '<option value="golden-v2 / test">' in html and '<option value="golden-v1 / test">' in html
    v1 = html.split('data-group="golden-v1 / test"')[1]
    assert "v2-best" not in v1                                                          # not ranked with v1 runs


def test_leaderboard_charts_have_real_axes(runs_dir: Path, tmp_path: Path) -> None:
    rows = rebuild_leaderboard(runs_dir, tmp_path / "lb.json")
    html = write_leaderboard_html(rows, tmp_path / "lb.html").read_text()
    scatter = html.split("Accuracy vs latency")[1].split("</svg>")[0]
    for tick in ("0%</text>", "20%</text>", "100%</text>", "0 ms</text>", "1 s</text>"):
        assert tick in scatter, tick
    assert "average latency per sample" in scatter and "root cause accuracy" in scatter
    over_time = html.split("Accuracy over time")[1].split("</svg>")[0]
    assert "run time (UTC)" in over_time and re.search(r">01-0[123] \d\d:\d\d</text>", over_time)
