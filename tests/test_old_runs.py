"""A run folder written before the package layout and typed records (kept as a fixture, from a real run of the
embedded model) still loads, reports, ranks, compares and resumes."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES
from fake_lm import OracleLM

from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.eval.resolve import recorded_request, resolve_target
from dspy_logeval.eval.runner import EvalRequest, evaluate_experiment
from dspy_logeval.runs.compare import compare_runs
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.leaderboard import leaderboard_row
from dspy_logeval.runs.report import rescore_run

OLD_RUN = FIXTURES / "runs-before-layout" / "20261205-101113-cot-smollm2"


def _copy(tmp_path: Path) -> RunFolder:
    runs = tmp_path / "runs"
    runs.mkdir()
    return RunFolder(Path(shutil.copytree(OLD_RUN, runs / OLD_RUN.name)))


def test_old_config_and_records_load_typed(tmp_path: Path) -> None:
    run = _copy(tmp_path)
    record = run.config()
    assert record.config.experiment_id == "cot-smollm2" and record.config.program == "cot"
    assert record.dataset.version == "golden-v1" and record.dataset.limit == 3 and record.analyzer == "dspy"
    records = run.records()
    assert [r.format_version for r in records] == [1, 1, 1]
    assert all(r.predicted is not None and r.scores["composite"] >= 0 for r in records)


def test_old_run_reports_ranks_and_compares(tmp_path: Path) -> None:
    run = _copy(tmp_path)
    before = run.metrics()
    metrics, lost = rescore_run(run)
    assert lost == 0 and metrics["composite"] == before["composite"] and metrics["n_samples"] == 3
    assert (run.path / "report.html").is_file() and "golden-v1" in (run.path / "summary.md").read_text()
    row = leaderboard_row(run)
    assert row["experiment_id"] == "cot-smollm2" and row["composite"] == before["composite"]
    assert compare_runs(run, run).verdict.startswith("no significant difference")


def test_old_interrupted_run_resumes(tmp_path: Path) -> None:
    run = _copy(tmp_path)
    lines = (run.path / "results.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    config = (run.path / "config.json").read_text(encoding="utf-8")  # as if written on another checkout
    (run.path / "config.json").write_text(config.replace("/work/wt-old/", "/elsewhere/"), encoding="utf-8")
    (run.path / "results.jsonl").write_text("".join(lines[:2]), encoding="utf-8")
    target = resolve_target(resume=run.run_id, runs_dir=run.path.parent, prompts_dir=tmp_path / "prompts")
    assert target.resume == run and target.program is None
    dataset, split, limit = recorded_request(run)
    assert (dataset, split, limit) == ("golden-v1", "test", 3)
    lm = OracleLM(load_dataset("golden-v1").samples)
    resumed = evaluate_experiment(target.config, runs_dir=run.path.parent, resume=target.resume, lm=lm,
                                  request=EvalRequest(dataset=dataset, split=split, limit=limit))
    ids = [r.sample_id for r in resumed.records()]
    assert len(ids) == 3 == len(set(ids)) and lm.calls == 1 and resumed.metrics()["n_samples"] == 3
