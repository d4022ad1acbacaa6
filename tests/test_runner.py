from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dspy
import pytest
from conftest import VALID_ANALYSIS, mini_config_dict
from dspy.utils.dummies import DummyLM

from dspy_logeval.core.config import ExperimentConfig, validate_config
from dspy_logeval.core.errors import ProgramNotFound, RunError
from dspy_logeval.eval.runner import EvalRequest, RunStopped, evaluate_experiment
from dspy_logeval.runs.folder import RunFolder

OOM = VALID_ANALYSIS | {"root_cause": "container_oom_killed", "severity": "error",
                        "component": "log-analyzer/api", "action_needed": "increase_resources"}


def fake_lm(answers: dict[str, dict[str, Any]] | None = None) -> DummyLM:
    default = {"OOMKilled": OOM}
    return DummyLM({**default, **(answers or {}), "": VALID_ANALYSIS}, adapter=dspy.JSONAdapter())


def test_evaluate_writes_one_record_per_sample(mini_config: ExperimentConfig, tmp_path: Path) -> None:
    run = evaluate_experiment(mini_config, runs_dir=tmp_path / "runs", lm=fake_lm())
    records = run.records()
    assert len(records) == 5 and run.metrics()["n_errors"] == 0
    oom = next(r for r in records if r.sample_id == "mini-001")
    assert oom.is_correct is True and oom.predicted_root_cause == "container_oom_killed"
    for key in ("sample_id", "category", "namespace", "is_correct", "predicted", "actual", "latency_ms",
                "prompt_tokens", "completion_tokens", "error"):
        assert key in json.loads((run.path / "results.jsonl").read_text().splitlines()[0])
    for name in ("config.json", "results.jsonl", "metrics.json", "summary.md", "report.html"):
        assert (run.path / name).is_file()
    assert (tmp_path / "leaderboard.json").is_file()


def test_run_records_provenance(mini_config: ExperimentConfig, tmp_path: Path) -> None:
    run = evaluate_experiment(mini_config, runs_dir=tmp_path, lm=fake_lm())
    record = run.config()
    assert record.format_version == 1 and record.seed == 7
    assert len(record.dataset.sha256 or "") == 64 and record.dataset.split == "all"
    assert record.packages["dspy"] and record.config.experiment_id == "mini"


def test_split_and_limit(mini_config: ExperimentConfig, tmp_path: Path) -> None:
    run = evaluate_experiment(mini_config, runs_dir=tmp_path, lm=fake_lm(), request=EvalRequest(split="test"))
    assert {r.split for r in run.records()} == {"test"}
    run = evaluate_experiment(mini_config, runs_dir=tmp_path, lm=fake_lm(), request=EvalRequest(limit=2))
    assert len(run.records()) == 2


def test_unparseable_answer_is_a_record_not_a_crash(mini_config: ExperimentConfig, tmp_path: Path) -> None:
    lm = DummyLM({"": {"root_cause": "not-a-label"}}, adapter=dspy.JSONAdapter())
    run = evaluate_experiment(mini_config, runs_dir=tmp_path, lm=lm, request=EvalRequest(limit=2))
    records = run.records()
    assert all(r.predicted is None and r.error_kind == "parse" for r in records)
    assert run.metrics()["quality"]["parse_failure_rate"] == 1.0


def test_unknown_program_fails_before_any_run_folder(tmp_path: Path) -> None:
    config = validate_config(mini_config_dict(program="nope"), source="t")
    with pytest.raises(ProgramNotFound, match="available: cot, fewshot, knn, predict"):
        evaluate_experiment(config, runs_dir=tmp_path / "runs", lm=fake_lm())
    assert not (tmp_path / "runs").exists()


def test_fewshot_takes_seeded_demos_from_train(tmp_path: Path) -> None:
    from dspy_logeval.data.dataset import load_dataset
    from dspy_logeval.eval.runner import build_program

    config = validate_config(mini_config_dict(program="fewshot", fewshot_k=2), source="t")
    dataset = load_dataset(config.dataset.version)
    first = build_program(config, dataset).analyze.demos
    again = build_program(config, dataset).analyze.demos
    assert [d.sample_id for d in first] == [d.sample_id for d in again]
    train_ids = {s.id for s in dataset.samples if s.split == "train"}
    assert {d.sample_id for d in first} <= train_ids and len(first) == min(2, len(train_ids))


class _DownLM(dspy.BaseLM):
    def __init__(self) -> None:
        super().__init__(model="down")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("connection refused")


def test_server_dying_stops_the_run_and_keeps_records(tmp_path: Path) -> None:
    config = validate_config(mini_config_dict(runtime={"max_errors": 2}), source="t")
    with pytest.raises(RunStopped, match="--resume"):
        evaluate_experiment(config, runs_dir=tmp_path, lm=_DownLM())
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (run_dir / "results.jsonl").read_text() == ""           # an unreachable LM says nothing of the model
    failures = (run_dir / "failures.jsonl").read_text().splitlines()
    assert len(failures) == 2 and json.loads(failures[0])["error_kind"] == "transport"
    assert json.loads((run_dir / "state.json").read_text())["status"] == "incomplete"


def test_resume_scores_only_what_is_missing(mini_config: ExperimentConfig, tmp_path: Path) -> None:
    run = evaluate_experiment(mini_config, runs_dir=tmp_path, lm=fake_lm())
    lines = (run.path / "results.jsonl").read_text().splitlines(keepends=True)
    (run.path / "results.jsonl").write_text("".join(lines[:2]) + lines[2][:30])  # 2 done, a torn third line
    lm = fake_lm()
    resumed = evaluate_experiment(mini_config, runs_dir=tmp_path, lm=lm, resume=RunFolder(run.path))
    ids = [r.sample_id for r in resumed.records()]
    assert len(ids) == 5 == len(set(ids)) and resumed.metrics()["n_samples"] == 5


def test_resume_refuses_another_limit_or_dataset(mini_config: ExperimentConfig, tmp_path: Path) -> None:
    run = evaluate_experiment(mini_config, runs_dir=tmp_path, lm=fake_lm(), request=EvalRequest(limit=2))
    with pytest.raises(RunError, match="another limit: limit 2 → None"):
        evaluate_experiment(mini_config, runs_dir=tmp_path, lm=fake_lm(), resume=RunFolder(run.path))
    with pytest.raises(RunError, match="another dataset sha256"):
        evaluate_experiment(mini_config, runs_dir=tmp_path, lm=fake_lm(), resume=RunFolder(run.path),
                            request=EvalRequest(limit=2, dataset="golden-v2"))
