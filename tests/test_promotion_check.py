"""promote refuses a prompt significantly worse than production; --force --reason overrides, and is recorded."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
from runs_factory import make_run, record
from test_gate import _bad, _good, _samples, export_from
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.core.errors import PromotionRefused
from dspy_logeval.export.promotion_check import check_promotion, promote_checked
from dspy_logeval.serve.promotion import production_pointer

RUNNER = CliRunner()


def _promote(tmp: Path, *args: str) -> Any:
    return RUNNER.invoke(app, ["promote", *args, "--runs-dir", str(tmp / "runs"),
                               "--prompts-dir", str(tmp / "prompts")])


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """runs/ with a good and a broken run; prompts/ with 'good' in production and 'bad' from the broken run."""
    runs, prompts = tmp_path / "runs", tmp_path / "prompts"
    export_from(prompts, "good", _good(runs))
    export_from(prompts, "bad", _bad(runs))
    promote_checked("good", prompts_dir=prompts, runs_dir=runs)
    return runs, prompts


def test_refuses_a_worse_candidate(dirs: tuple[Path, Path]) -> None:
    runs, prompts = dirs
    with pytest.raises(PromotionRefused, match=r"bad is significantly worse than production good v1: .* worse"):
        promote_checked("bad", prompts_dir=prompts, runs_dir=runs)
    assert production_pointer(prompts)["name"] == "good"  # type: ignore[index]
    result = _promote(runs.parent, "bad")
    assert result.exit_code == 1 and "production is unchanged (override with --force --reason TEXT)" in result.output
    assert "Traceback" not in result.output


def test_allows_a_candidate_not_worse(dirs: tuple[Path, Path]) -> None:
    runs, prompts = dirs
    export_from(prompts, "good2", _good(runs, exp="other", stamp="20250103-120000"))
    result = _promote(runs.parent, "good2")
    assert result.exit_code == 0, result.output
    assert "no significant difference at 95%" in result.output and "production → good2 v1" in result.output
    pointer = production_pointer(prompts)
    assert pointer is not None and [h["name"] for h in pointer["history"]] == ["good", "good2"]
    assert pointer["history"][1]["replaced"] == "good v1" and pointer["history"][1]["forced"] is False


def test_force_with_reason_is_recorded(dirs: tuple[Path, Path]) -> None:
    runs, prompts = dirs
    assert _promote(runs.parent, "bad", "--force").exit_code == 2  # --reason is required
    result = _promote(runs.parent, "bad", "--force", "--reason", "hotfix for a new log format")
    assert result.exit_code == 0, result.output
    assert "forced: bad is significantly worse" in result.output
    pointer = json.loads((prompts / "production.json").read_text())
    assert pointer["name"] == "bad"
    last = pointer["history"][-1]
    assert last["forced"] is True and last["reason"] == "hotfix for a new log format"
    assert last["promoted_by"] == getpass.getuser() and last["promoted_at"].startswith("20")
    assert "worse" in last["check"]


def test_refuses_without_a_scored_source_run_unless_forced(dirs: tuple[Path, Path]) -> None:
    runs, prompts = dirs
    export_from(prompts, "orphan", None)
    check = check_promotion("orphan", prompts_dir=prompts, runs_dir=runs)
    assert check.refusal == "candidate orphan v1 cannot be compared: it records no source run"
    with pytest.raises(PromotionRefused, match="records no source run"):
        promote_checked("orphan", prompts_dir=prompts, runs_dir=runs)
    other = _good(runs.parent / "elsewhere", exp="x")
    export_from(prompts, "moved", other)
    assert "is not in" in (check_promotion("moved", prompts_dir=prompts, runs_dir=runs).refusal or "")
    pointer, _ = promote_checked("orphan", prompts_dir=prompts, runs_dir=runs, force=True, reason="bootstrap")
    assert pointer["history"][-1]["reason"] == "bootstrap"


def test_refuses_source_runs_on_different_datasets(dirs: tuple[Path, Path]) -> None:
    runs, prompts = dirs
    export_from(prompts, "v2", make_run(runs, "v2", [record(s) for s in _samples()], stamp="20250104-120000",
                                        dataset_version="golden-v2", sha256="fff"))
    check = check_promotion("v2", prompts_dir=prompts, runs_dir=runs)
    assert check.refusal and "not comparable" in check.refusal


def test_a_pointer_without_history_starts_the_history(dirs: tuple[Path, Path]) -> None:
    runs, prompts = dirs
    old = {"format_version": 1, "name": "good", "version": 1, "source_run": "20250101-120000-exp",
           "promoted_by": "someone", "promoted_at": "2025-01-01T00:00:00+00:00"}
    (prompts / "production.json").write_text(json.dumps(old))
    export_from(prompts, "good2", _good(runs, exp="other", stamp="20250103-120000"))
    pointer, _ = promote_checked("good2", prompts_dir=prompts, runs_dir=runs)
    assert pointer["history"][0]["promoted_by"] == "someone" and pointer["history"][1]["name"] == "good2"
