"""The gate: thresholds from metric_keys, --against production/baseline/RUN, config gate sections, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from runs_factory import SAMPLES, make_run, record, wrong
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.core.config import GateConfig, validate_config
from dspy_logeval.core.errors import ConfigError, RunError
from dspy_logeval.export.artifact import ProgramSource, export_prompt, source_from_template
from dspy_logeval.runs.baseline import baseline_of
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.gate import gate_run, merged_thresholds, parse_thresholds, reference_run
from dspy_logeval.serve.promotion import promote

RUNNER = CliRunner()


def _samples(n: int = 12) -> list[dict[str, Any]]:
    return [{**SAMPLES[i % 4], "sample_id": f"gv1-{i:03d}"} for i in range(n)]


def _good(tmp: Path, exp: str = "exp", stamp: str = "20250101-120000") -> RunFolder:
    return make_run(tmp, exp, [record(s) for s in _samples()], stamp=stamp)


def _bad(tmp: Path, exp: str = "exp", stamp: str = "20250102-120000") -> RunFolder:
    return make_run(tmp, exp, [record(s, wrong(s), latency_ms=12_000) for s in _samples()], stamp=stamp)


def patch_config(run: RunFolder, **fields: Any) -> None:
    """Change config.json of RUN: top-level FIELDS, and 'config.<key>' entries inside the experiment config."""
    path = run.path / "config.json"
    data = json.loads(path.read_text())
    for key, value in fields.items():
        if key.startswith("config_"):
            data["config"][key.removeprefix("config_")] = value
        else:
            data[key] = value
    path.write_text(json.dumps(data))


def export_from(prompts: Path, name: str, run: RunFolder | str | None, **provenance_: Any) -> None:
    """A prompt artifact NAME whose provenance names RUN as its source run (None: no source run)."""
    source = source_from_template("root_cause_v1")
    ref = run.run_id if isinstance(run, RunFolder) else run
    provenance = {**source.provenance, "source_run": ref, **provenance_}
    export_prompt(ProgramSource(source.program, source.config, provenance), name=name, prompts_dir=prompts)


def _gate(tmp: Path, *args: str) -> Any:
    return RUNNER.invoke(app, ["gate", *args, "--runs-dir", str(tmp / "runs"), "--prompts-dir", str(tmp / "prompts")])


def test_thresholds_take_names_or_paths_and_unknown_names_list_the_known(tmp_path: Path) -> None:
    parsed = parse_thresholds(["composite=0.3", "performance.p95_latency_ms=9000"], "max")
    assert set(parsed) == {"composite", "p95_latency_ms"} and parsed["p95_latency_ms"].limit == 9000.0
    with pytest.raises(ConfigError, match=r"unknown metric 'compo'; known: accuracy, composite"):
        parse_thresholds(["compo=1"], "min")
    with pytest.raises(ConfigError, match="expected NAME=VALUE"):
        parse_thresholds(["composite"], "min")
    with pytest.raises(ConfigError, match="'high' is not a number"):
        parse_thresholds(["composite=high"], "min")
    merged = merged_thresholds(GateConfig(min={"composite": 0.9, "accuracy": 0.5}), mins=["composite=0.2"], maxs=[])
    assert {(t.key.name, t.limit) for t in merged} == {("composite", 0.2), ("accuracy", 0.5)}


def test_gate_checks_each_threshold(tmp_path: Path) -> None:
    run = _bad(tmp_path)
    result = gate_run(run, thresholds=merged_thresholds(None, mins=["composite=0.7"], maxs=["p95_latency_ms=20000"]))
    assert [c.passed for c in result.checks] == [False, True] and not result.passed
    assert result.checks[0].threshold == ">= 0.700" and result.checks[1].value == "12000 ms"
    missing = gate_run(run, thresholds=merged_thresholds(None, mins=["lift_accuracy=0"], maxs=[]))
    assert missing.checks[0].value == "missing in metrics.json" and not missing.passed
    with pytest.raises(RunError, match="nothing to gate"):
        gate_run(run, thresholds=[])


def test_cli_gate_exit_codes_and_lines(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _good(runs)
    passed = _gate(tmp_path, "latest", "--min", "composite=0.7", "--max", "p95_latency_ms=9000")
    assert passed.exit_code == 0, passed.output
    assert "pass  composite: 1.000 (threshold >= 0.700)" in passed.output
    assert "gate passed for 20250101-120000-exp: 2 checks" in passed.output
    _bad(runs)
    failed = _gate(tmp_path, "latest", "--min", "composite=0.7", "--max", "p95_latency_ms=9000")
    assert failed.exit_code == 3
    assert "FAIL  composite: 0.650" in failed.output and "FAIL  p95_latency_ms: 12000 ms" in failed.output
    assert "gate FAILED for 20250102-120000-exp: 2 of 2 checks failed" in failed.output
    unknown = _gate(tmp_path, "latest", "--min", "nope=1")
    assert unknown.exit_code == 1 and unknown.output.count("\n") == 1
    assert "error: --min: unknown metric 'nope'; known: accuracy, composite" in unknown.output
    assert _gate(tmp_path, "ghost", "--min", "composite=0").exit_code == 1
    assert "nothing to gate" in _gate(tmp_path, "latest").output


def test_gate_against_production_fails_when_significantly_worse(tmp_path: Path) -> None:
    runs, prompts = tmp_path / "runs", tmp_path / "prompts"
    good = _good(runs)
    export_from(prompts, "prod", good)
    promote("prod", prompts)
    same = _gate(tmp_path, good.run_id, "--against", "production")
    assert same.exit_code == 0 and "pass  vs production 20250101-120000-exp" in same.output
    bad = _bad(runs)
    failed = _gate(tmp_path, bad.run_id, "--against", "production", "--min", "composite=0.1")
    assert failed.exit_code == 3, failed.output
    assert "pass  composite" in failed.output
    assert "FAIL  vs production 20250101-120000-exp: composite -0.350" in failed.output and ": worse" in failed.output
    assert "(threshold not worse)" in failed.output


def test_gate_against_production_errors_are_one_line(tmp_path: Path) -> None:
    runs, prompts = tmp_path / "runs", tmp_path / "prompts"
    bad = _bad(runs)
    nothing = _gate(tmp_path, bad.run_id, "--against", "production")
    assert nothing.exit_code == 1 and "no prompt is promoted" in nothing.output
    export_from(prompts, "orphan", None)
    promote("orphan", prompts)
    orphan = _gate(tmp_path, bad.run_id, "--against", "production")
    assert orphan.exit_code == 1 and "records no source run" in orphan.output
    assert "records no test composite" in orphan.output and orphan.output.count("\n") == 1


def test_gate_against_production_without_its_run_uses_the_recorded_composite(tmp_path: Path) -> None:
    runs, prompts = tmp_path / "runs", tmp_path / "prompts"
    good, bad = _good(runs), _bad(runs)
    export_from(prompts, "prod", "20241231-000000-gone", test_metrics={"composite": 0.9, "n_samples": 61},
                dataset={"version": "golden-v1", "sha256": "abc123"})
    promote("prod", prompts)
    failed = _gate(tmp_path, bad.run_id, "--against", "production")
    assert failed.exit_code == 3, failed.output
    assert "FAIL  vs production prod v1 (recorded; source run 20241231-000000-gone not here): composite 0.650 " \
           "[0.650, 0.650] vs recorded 0.900 on 61 samples (unpaired): worse" in failed.output
    assert _gate(tmp_path, good.run_id, "--against", "production").exit_code == 0
    patch_config(good, dataset={"version": "golden-v2", "sha256": "fff", "split": "test"})
    other = _gate(tmp_path, good.run_id, "--against", "production")
    assert other.exit_code == 1 and "scored golden-v2 (sha256 fff), but production prod v1" in other.output
    assert "was scored on golden-v1 (sha256 abc123): not comparable; score the run on" in other.output


def test_a_baseline_differing_only_in_neutral_fields_is_reused(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = _good(runs, stamp="20250101-100000")
    compiled = _bad(runs, exp="exp-bootstrap", stamp="20250102-120000")
    patch_config(compiled, lineage={"compiled": "c.json", "compiled_from": "exp", "optimizer": "bootstrap"},
                 config_experiment_id="exp-bootstrap")
    config = json.loads((first.path / "config.json").read_text())["config"]
    neutral = {"runtime": {**config.get("runtime", {}), "stall_timeout": 999.0}, "description": "older words",
               "metrics": {**config.get("metrics", {}), "threshold": 0.7, "bootstrap_pass": ["root_cause"]}}
    patch_config(first, **{f"config_{k}": v for k, v in neutral.items()})
    assert baseline_of(compiled, runs).run_id == first.run_id      # timeouts and optimizer settings: same baseline
    patch_config(first, config_llm_config={**config.get("llm_config", {}), "temperature": 0.9})
    assert baseline_of(compiled, runs) is None                      # sampling changes predictions: not a baseline


def test_gate_against_a_run_on_another_dataset_is_an_error(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    good, bad = _good(runs), _bad(runs)
    patch_config(good, dataset={"version": "golden-v2", "sha256": "fff", "split": "test"})
    result = _gate(tmp_path, bad.run_id, "--against", good.run_id)
    assert result.exit_code == 1 and "run reference 20250101-120000-exp cannot be compared" in result.output
    assert "--force" not in result.output and "--dataset VERSION" in result.output


def test_baseline_is_the_newest_uncompiled_run_of_the_same_config(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = _good(runs, stamp="20250101-100000")
    older = _good(runs, stamp="20250101-110000")
    other = _good(runs, exp="other", stamp="20250101-115000")
    compiled = _bad(runs, exp="exp-bootstrap", stamp="20250102-120000")
    patch_config(compiled, lineage={"compiled": "c.json", "compiled_from": "exp", "optimizer": "bootstrap"},
                 config_experiment_id="exp-bootstrap")
    assert baseline_of(compiled, runs).run_id == older.run_id
    assert baseline_of(older, runs).run_id == first.run_id
    assert baseline_of(first, runs) is None and baseline_of(other, runs) is None
    with pytest.raises(RunError, match="no scored run of exp without lineage"):
        reference_run("baseline", first, runs_dir=runs)
    result = _gate(tmp_path, compiled.run_id, "--against", "baseline")
    assert result.exit_code == 3 and f"FAIL  vs baseline {older.run_id}" in result.output


def test_gate_section_of_the_config_applies(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    reference = _good(runs)
    bad = _bad(runs)
    patch_config(bad, config_gate={"min": {"accuracy": 0.5}, "against": reference.run_id})
    result = _gate(tmp_path, bad.run_id)
    assert result.exit_code == 3
    assert "FAIL  accuracy: 0.0%" in result.output and f"FAIL  vs run {reference.run_id}" in result.output
    overridden = _gate(tmp_path, bad.run_id, "--min", "accuracy=0", "--against", bad.run_id)
    assert overridden.exit_code == 0, overridden.output


def test_gate_section_validates_and_old_configs_load() -> None:
    config = validate_config({"experiment_id": "x", "gate": {"min": {"composite": 0.3}, "against": "production"},
                              "tracking": {"mlflow": "http://127.0.0.1:5000"}}, source="t")
    assert config.gate is not None and config.gate.min == {"composite": 0.3}
    assert config.tracking is not None and config.tracking.mlflow == "http://127.0.0.1:5000"
    assert validate_config({"experiment_id": "x"}, source="t").gate is None
    with pytest.raises(ConfigError, match="gate.minimum"):
        validate_config({"experiment_id": "x", "gate": {"minimum": {}}}, source="t")


def test_compare_fail_on_worse_exits_3(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    good, bad = _good(runs), _bad(runs)
    args = ["compare", good.run_id, bad.run_id, "--runs-dir", str(runs)]
    assert RUNNER.invoke(app, args).exit_code == 0
    failed = RUNNER.invoke(app, [*args, "--fail-on", "worse"])
    assert failed.exit_code == 3 and "verdict: worse" in failed.output
    better = RUNNER.invoke(app, ["compare", bad.run_id, good.run_id, "--runs-dir", str(runs), "--fail-on", "worse"])
    assert better.exit_code == 0 and "verdict: better" in better.output
