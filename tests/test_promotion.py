"""Promotion: the production pointer, `logeval prompts`, and what `serve` picks without --prompt."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.core.errors import ArtifactError
from dspy_logeval.export.artifact import ProgramSource, export_prompt, source_from_template
from dspy_logeval.serve.promotion import list_prompts, production_artifact, production_pointer, promote


def _export(prompts_dir: Path, name: str, *, force: bool = False, composite: float | None = None) -> None:
    source = source_from_template("root_cause_v1")
    if composite is not None:
        source = ProgramSource(source.program, source.config, {**source.provenance, "source_run": "run-1",
                                                               "test_metrics": {"composite": composite}})
    export_prompt(source, name=name, prompts_dir=prompts_dir, force=force)


def test_promote_writes_the_pointer(tmp_path: Path) -> None:
    _export(tmp_path, "a", composite=0.42)
    pointer = promote("a", tmp_path)
    on_disk = json.loads((tmp_path / "production.json").read_text())
    assert on_disk == pointer and pointer["name"] == "a" and pointer["version"] == 1
    assert pointer["source_run"] == "run-1" and pointer["promoted_by"] == getpass.getuser()
    assert pointer["promoted_at"].startswith("20")
    assert production_artifact(tmp_path).name == "a"


def test_nothing_promoted_or_unknown_name_is_clear(tmp_path: Path) -> None:
    assert production_pointer(tmp_path) is None
    with pytest.raises(ArtifactError, match="no prompt is promoted.*logeval promote NAME"):
        production_artifact(tmp_path)
    with pytest.raises(ArtifactError, match="no prompt artifact 'ghost'"):
        promote("ghost", tmp_path)
    assert not (tmp_path / "production.json").exists()


def test_replaced_artifact_must_be_promoted_again(tmp_path: Path) -> None:
    _export(tmp_path, "a")
    promote("a", tmp_path)
    _export(tmp_path, "a", force=True)
    with pytest.raises(ArtifactError, match="promote it again"):
        production_artifact(tmp_path)
    promote("a", tmp_path)
    assert production_artifact(tmp_path).version == 2


def test_list_prompts_marks_production_and_reports_broken_files(tmp_path: Path) -> None:
    _export(tmp_path, "a", composite=0.4)
    _export(tmp_path, "b", composite=0.6)
    promote("b", tmp_path)
    (tmp_path / "broken.json").write_text(json.dumps({"format_version": 9}))
    rows = {row.name: row for row in list_prompts(tmp_path)}
    assert set(rows) == {"a", "b", "broken"}
    assert rows["b"].production and not rows["a"].production and rows["b"].test_metrics == {"composite": 0.6}
    assert rows["broken"].problem and "format_version 9" in rows["broken"].problem


def test_cli_promote_and_prompts(tmp_path: Path) -> None:
    _export(tmp_path, "a", composite=0.5)
    runner = CliRunner()
    promoted = runner.invoke(app, ["promote", "a", "--prompts-dir", str(tmp_path)])
    assert promoted.exit_code == 0 and "production → a v1" in promoted.output
    listed = runner.invoke(app, ["prompts", "--prompts-dir", str(tmp_path)])
    assert listed.exit_code == 0 and "0.500" in listed.output and "*" in listed.output
    missing = runner.invoke(app, ["promote", "nope", "--prompts-dir", str(tmp_path)])
    assert missing.exit_code == 1 and "no prompt artifact 'nope'" in missing.output


def test_serve_without_a_promoted_prompt_fails_before_starting(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--prompts-dir", str(tmp_path)])
    assert result.exit_code == 1 and "no prompt is promoted" in result.output and "Traceback" not in result.output
    bad = CliRunner().invoke(app, ["serve", "--prompt", "ghost", "--prompts-dir", str(tmp_path)])
    assert bad.exit_code == 1 and "no prompt artifact 'ghost'" in bad.output


def test_serve_rejects_a_bad_endpoint(tmp_path: Path) -> None:
    _export(tmp_path, "a")
    result = CliRunner().invoke(app, ["serve", "--prompt", "a", "--endpoint", "localhost:8080",
                                      "--prompts-dir", str(tmp_path)])
    assert result.exit_code == 1 and "--endpoint" in result.output
