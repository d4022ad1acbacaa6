"""The no-LLM floors on a fixture whose every floor value is known by hand, and their lift in metrics.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import mini_config_dict
from fake_lm import OracleLM

from dspy_logeval.core.config import validate_config
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.data.floors import fit_floors, floor_pool
from dspy_logeval.eval.runner import EvalRequest, evaluate_experiment


def _sample(sample_id: str, split: str, message: str, root_cause: str, category: str, severity: str,
            action: str, workload: str) -> dict[str, Any]:
    return {"id": sample_id, "category": category, "severity": severity, "namespace": "shop", "split": split,
            "logs": [{"timestamp": "2026-01-01T00:00:00Z", "namespace": "shop", "pod": f"{workload}-7d9f8c6b5d-q2w3e",
                      "container": workload, "message": message}],
            "ground_truth": {"root_cause": root_cause, "severity": severity, "component": f"shop/{workload}",
                             "summary": f"{workload}: {root_cause}", "action_needed": action}}


OOM = ("container_oom_killed", "pod_lifecycle")
REFUSED = ("connection_refused", "network")
SAMPLES = [
    _sample("t1", "train", "Last state: Terminated, reason: OOMKilled, exit code 137", *OOM, "error",
            "increase_resources", "api"),
    _sample("t2", "train", "dial tcp 10.96.0.12:5432: connect: connection refused", *REFUSED, "error",
            "investigate_network", "web"),
    _sample("t3", "train", "OOMKilled again after the memory limit was lowered, exit code 137", *OOM, "critical",
            "increase_resources", "worker"),
    _sample("s1", "test", "reason: OOMKilled, exit code 137", *OOM, "error", "increase_resources", "api"),
    _sample("s2", "test", "dial tcp 10.96.0.7:6379: connect: connection refused", *REFUSED, "warn",
            "investigate_network", "web"),
]


def _dataset(tmp_path: Path) -> Path:
    path = tmp_path / "samples.json"
    path.write_text(json.dumps(SAMPLES), encoding="utf-8")
    return path


def test_each_floor_answers_as_worked_out_by_hand(tmp_path: Path) -> None:
    dataset = load_dataset(str(_dataset(tmp_path)))
    scored = dataset.split("test")
    pool = floor_pool(dataset, scored)
    assert [s.id for s in pool] == ["t1", "t2", "t3"]
    floors = fit_floors(pool)
    assert floors is not None
    # majority: 2 of 3 train samples are OOMKilled/error/increase_resources; components tie → alphabetical
    assert floors.majority == {"root_cause": "container_oom_killed", "severity": "error", "component": "shop/api",
                               "summary": "", "action_needed": "increase_resources"}
    s1, s2 = (floors.predict(s) for s in scored)
    assert s1["nearest"]["summary"] == "api: container_oom_killed"  # t1, the closer of the two OOM samples
    assert s2["nearest"]["root_cause"] == "connection_refused" and s2["nearest"]["severity"] == "error"
    assert s1["rules"]["root_cause"] == "container_oom_killed" and s2["rules"]["root_cause"] == "connection_refused"


def test_metrics_hold_floors_and_lift_over_the_best(tmp_path: Path) -> None:
    config = validate_config(mini_config_dict(dataset={"version": str(_dataset(tmp_path)), "split": "test"}),
                             source="t")
    wrong = {"root_cause": "normal_operation", "severity": "info", "component": "x", "summary": "fine",
             "action_needed": "ignore"}
    lm = OracleLM(load_dataset(str(_dataset(tmp_path))).samples, wrong={"s2"}, wrong_answer=wrong)
    run = evaluate_experiment(config, runs_dir=tmp_path / "runs", lm=lm, request=EvalRequest())
    metrics = run.metrics()
    floors = metrics["floors"]
    assert floors["majority"]["root_cause_exact_match"] == 0.5       # s1 right, s2 wrong
    assert floors["majority"]["severity_classification"] == 0.5      # error: right for s1, s2 is warn
    assert floors["majority"]["action"] == 0.5
    assert floors["nearest"]["root_cause_exact_match"] == 1.0 and floors["nearest"]["action"] == 1.0
    assert floors["nearest"]["severity_classification"] == 0.5      # t2 says error, s2 is warn
    assert floors["rules"]["root_cause_exact_match"] == 1.0
    lift = metrics["lift_over_floor"]["root_cause_exact_match"]
    assert metrics["accuracy"]["root_cause_exact_match"] == 0.5      # the program misses s2
    assert lift["floor"] in ("nearest", "rules") and lift["floor_value"] == 1.0 and lift["lift"] == -0.5
    assert lift["ci"][0] <= -0.5 <= lift["ci"][1] <= 0.0
    assert metrics["confidence_intervals"]["lift_over_floor.root_cause_exact_match.lift"] == lift["ci"]
    assert all(r.floors and set(r.floors) == {"majority", "nearest", "rules"} for r in run.records())


def test_a_dataset_without_splits_learns_floors_from_what_is_not_scored(tmp_path: Path) -> None:
    rows = [{k: v for k, v in s.items() if k != "split"} for s in SAMPLES]
    path = tmp_path / "own.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    dataset = load_dataset(str(path))
    pool = floor_pool(dataset, dataset.samples[3:])
    assert [s.id for s in pool] == ["t1", "t2", "t3"]
    everything = fit_floors(floor_pool(dataset, dataset.samples))  # scoring it all: leave-one-out neighbours
    assert everything is not None
    assert everything.predict(dataset.samples[3])["nearest"]["root_cause"] == "container_oom_killed"
