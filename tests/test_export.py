"""Prompt artifacts: byte-for-byte messages, sources (template, run, compiled), refusals, production runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import MINI_GOLDEN, VALID_ANALYSIS, mini_config_dict
from test_runner import fake_lm
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.core.config import ExperimentConfig, validate_config
from dspy_logeval.core.errors import ArtifactError, RunError, RunStopped
from dspy_logeval.data.dataset import load_dataset, render_logs
from dspy_logeval.eval.runner import EvalRequest, build_program, evaluate_experiment, evaluate_production
from dspy_logeval.export.artifact import (
    ProgramSource,
    build_artifact,
    export_prompt,
    resolve_source,
    single_predictor,
    source_from_template,
)
from dspy_logeval.export.parity import ParityReport, _compare
from dspy_logeval.lm.adapter import SchemaJSONAdapter
from dspy_logeval.runs.record import SampleRecord
from dspy_logeval.serve.analyzer import AnalyzerSettings, LogAnalyzer
from dspy_logeval.serve.prompt_artifact import load_artifact


def _source(program: str, **overrides: Any) -> ProgramSource:
    config = validate_config(mini_config_dict(program=program, fewshot_k=2, **overrides), source="t")
    return ProgramSource(build_program(config, load_dataset(str(MINI_GOLDEN))), config, {"source_run": None})


@pytest.mark.parametrize("program, template", [("predict", "root_cause_v1"), ("cot", "cot_v1"),
                                               ("fewshot", "fewshot_v1"), ("predict", "taxonomy_guided_v1")])
def test_artifact_messages_are_byte_for_byte_what_the_program_sends(program: str, template: str) -> None:
    source = _source(program, prompt={"template": template})
    artifact = build_artifact(source, name="t")
    predictor = single_predictor(source.program)
    for sample in load_dataset(str(MINI_GOLDEN)).samples:
        logs = render_logs(sample.logs)
        expected = SchemaJSONAdapter().format(predictor.signature, predictor.demos, {"logs": logs})
        assert artifact.render(logs) == expected
    if program == "fewshot":
        assert len(artifact.demos) == 2 and len(artifact.messages) == 2 + 2 * 2
    if program == "cot":
        assert artifact.output_fields[0] == "reasoning"


def test_export_template_writes_the_contract(tmp_path: Path) -> None:
    artifact, path = export_prompt(source_from_template("root_cause_v1"), name="base", prompts_dir=tmp_path)
    raw = json.loads(path.read_text())
    for key in ("format_version", "name", "version", "messages", "demos", "response_format", "sampling", "model",
                "provenance", "created"):
        assert key in raw
    assert raw["response_format"]["type"] == "json_schema" and raw["model"] == "smollm2-135m-instruct"
    assert raw["version"] == 1 and "{{logs}}" in raw["messages"][-1]["content"]
    assert load_artifact("base", tmp_path) == artifact


def test_existing_name_needs_force_and_then_increments(tmp_path: Path) -> None:
    source = source_from_template("root_cause_v1")
    export_prompt(source, name="p", prompts_dir=tmp_path)
    with pytest.raises(ArtifactError, match="already exists.*--force"):
        export_prompt(source, name="p", prompts_dir=tmp_path)
    artifact, _ = export_prompt(source, name="p", prompts_dir=tmp_path, force=True)
    assert artifact.version == 2 and load_artifact("p", tmp_path).version == 2


def test_export_from_a_run_keeps_its_provenance(mini_config: ExperimentConfig, tmp_path: Path) -> None:
    run = evaluate_experiment(mini_config, runs_dir=tmp_path / "runs", lm=fake_lm())
    source = resolve_source(run.run_id, template=None, runs_dir=tmp_path / "runs")
    artifact, _ = export_prompt(source, name="from-run", prompts_dir=tmp_path / "prompts")
    prov = artifact.provenance
    assert prov["source_run"] == run.run_id and len(prov["dataset"]["sha256"]) == 64
    assert prov["test_metrics"]["n_samples"] == 5 and "composite" in prov["test_metrics"]
    assert artifact.meta() == {"name": "from-run", "version": 1, "source_run": run.run_id}


def test_export_from_a_compiled_program(tmp_path: Path) -> None:
    source = _source("fewshot")
    path = tmp_path / "compiled" / "20250101-000000-mini.json"
    path.parent.mkdir()
    source.program.save(str(path))
    path.with_name(f"{path.stem}.manifest.json").write_text(json.dumps({
        "format_version": 1, "program": "fewshot", "template": "root_cause_v1", "system_prompt": None,
        "config": source.config.model_dump(mode="json"), "dataset": {"version": "mini-golden", "sha256": "ab" * 32},
        "test_run_id": "20250101-000001-mini", "test_metrics": {"composite": 0.5, "accuracy": {
            "root_cause_exact_match": 0.4}, "n_samples": 2}}))
    compiled = resolve_source(str(path), template=None, runs_dir=tmp_path / "runs")
    artifact = build_artifact(compiled, name="compiled")
    assert artifact.demos == build_artifact(source, name="x").demos and len(artifact.demos) == 2
    assert artifact.provenance["source_run"] == "20250101-000001-mini"
    assert artifact.provenance["test_metrics"] == {"composite": 0.5, "root_cause_exact_match": 0.4,
                                                   "n_samples": 2}


def test_unknown_sources_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no run 'nope'"):
        resolve_source("nope", template=None, runs_dir=tmp_path)
    with pytest.raises(ArtifactError, match="compiled program not found"):
        resolve_source(str(tmp_path / "missing.json"), template=None, runs_dir=tmp_path)
    with pytest.raises(ArtifactError, match="no prompt artifact 'ghost'"):
        load_artifact("ghost", tmp_path)
    with pytest.raises(ArtifactError, match="invalid prompt name"):
        load_artifact("../etc/passwd", tmp_path)


def _write_variant(tmp_path: Path, mutate: Any) -> None:
    _, path = export_prompt(source_from_template("root_cause_v1"), name="v", prompts_dir=tmp_path)
    raw = json.loads(path.read_text())
    mutate(raw)
    path.write_text(json.dumps(raw))


def test_other_format_version_is_refused_in_one_line(tmp_path: Path) -> None:
    _write_variant(tmp_path, lambda raw: raw.update(format_version=2))
    with pytest.raises(ArtifactError, match="format_version 2, this analyzer reads 1"):
        load_artifact("v", tmp_path)
    args = ["evaluate", "--analyzer", "production", "--prompt", "v", "--prompts-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "format_version 2" in result.output and "Traceback" not in result.output


def test_schema_labels_off_the_taxonomy_are_refused(tmp_path: Path) -> None:
    def drop_label(raw: dict[str, Any]) -> None:
        raw["response_format"]["json_schema"]["schema"]["properties"]["severity"]["enum"] = ["info", "urgent"]

    _write_variant(tmp_path, drop_label)
    with pytest.raises(ArtifactError, match="schema labels of 'severity' differ from datasets/taxonomy.yaml"):
        load_artifact("v", tmp_path)


def test_cli_export_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["export", "--template", "root_cause_v1", "--name", "cli", "--prompts-dir", str(tmp_path)])
    assert ok.exit_code == 0 and "cli v1" in ok.output
    again = runner.invoke(app, ["export", "--template", "root_cause_v1", "--name", "cli",
                                "--prompts-dir", str(tmp_path)])
    assert again.exit_code == 1 and "--force" in again.output
    missing = runner.invoke(app, ["export", "nope", "--name", "x", "--prompts-dir", str(tmp_path),
                                  "--runs-dir", str(tmp_path / "runs")])
    assert missing.exit_code == 1 and "no run 'nope'" in missing.output


@pytest.mark.parametrize("identical, code", [(10, 0), (9, 3)])
def test_cli_verify_records_parity_and_fails_under_99_percent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              identical: int, code: int) -> None:
    import dspy_logeval.export.parity as parity

    report = ParityReport(n=10, identical=identical, metrics_dspy={"composite": 0.5},
                          metrics_production={"composite": 0.5 - (10 - identical) / 100})
    monkeypatch.setattr(parity, "verify_parity", lambda *args, **kwargs: report)
    result = CliRunner().invoke(app, ["export", "--template", "root_cause_v1", "--name", "checked", "--verify",
                                      "--limit", "10", "--prompts-dir", str(tmp_path)])
    assert result.exit_code == code, result.output
    recorded = load_artifact("checked", tmp_path).provenance["parity"]
    assert (recorded["n"], recorded["identical"], recorded["passed"]) == (10, identical, code == 0)
    assert recorded["split"] == "test" and recorded["limit"] == 10 and recorded["required"] == 0.99
    assert recorded["differences"]["composite"] == pytest.approx(-(10 - identical) / 100)
    assert ("parity failed: 9/10" in result.output) == (code == 3)


def _mock_analyzer(tmp_path: Path, handler: Any) -> LogAnalyzer:
    artifact, _ = export_prompt(source_from_template("root_cause_v1"), name="prod", prompts_dir=tmp_path)
    return LogAnalyzer("http://llm", "fake", AnalyzerSettings(retries=0), artifact,
                       client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_evaluate_production_writes_a_normal_run_folder(tmp_path: Path) -> None:
    answer = json.dumps(VALID_ANALYSIS)
    analyzer = _mock_analyzer(tmp_path, lambda r: httpx.Response(200, json={
        "choices": [{"message": {"content": answer}}], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}))
    run = evaluate_production(analyzer.prompt, runs_dir=tmp_path / "runs",
                              request=EvalRequest(dataset=str(MINI_GOLDEN), split="all"), analyzer=analyzer)
    records = run.records()
    assert len(records) == 5 and all(r.predicted == VALID_ANALYSIS for r in records)
    assert records[0].prompt_tokens == 5 and run.metrics()["n_errors"] == 0
    record = run.config()
    assert record.analyzer == "production" and record.lineage and record.lineage.prompt
    assert record.lineage.prompt["name"] == "prod"
    assert record.config.experiment_id == "prod-prod" and (tmp_path / "leaderboard.json").is_file()


def test_evaluate_production_stops_when_the_lm_is_down(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    analyzer = _mock_analyzer(tmp_path, down)
    with pytest.raises(RunStopped, match="3 requests in a row"):
        evaluate_production(analyzer.prompt, runs_dir=tmp_path / "runs",
                            request=EvalRequest(dataset=str(MINI_GOLDEN), split="all"), analyzer=analyzer)


def test_parity_report_counts_identical_predictions(mini_config: ExperimentConfig) -> None:
    base = {"sample_id": "a", "actual": VALID_ANALYSIS, "predicted": VALID_ANALYSIS, "error_kind": None,
            "error": None, "is_correct": True, "category": "healthy", "namespace": "x", "latency_ms": 1.0,
            "prompt_tokens": 1, "completion_tokens": 1, "scores": {}}
    other = base | {"sample_id": "b", "predicted": VALID_ANALYSIS | {"severity": "warn"}}
    a, b = SampleRecord.model_validate(base), SampleRecord.model_validate(base | {"sample_id": "b"})
    report = _compare([a, b], [a, SampleRecord.model_validate(other)], mini_config)
    assert isinstance(report, ParityReport) and report.n == 2 and report.identical_share == 0.5
    assert report.mismatches[0]["sample_id"] == "b" and set(report.differences()) >= {"composite"}
