"""`logeval dataset ...` through CliRunner: exit codes, one-line errors, nothing written on failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dspy_logeval.cli.dataset import dataset_app

MINI = Path(__file__).parent / "fixtures" / "mini-golden"
app = typer.Typer()
app.add_typer(dataset_app, name="dataset")
runner = CliRunner()


def _mini_raw() -> list[dict[str, Any]]:
    return json.loads((MINI / "samples.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _malformed(path: Path) -> None:
    path.write_text('[{"id": "x", ', encoding="utf-8")


def _missing_fields(path: Path) -> None:
    raw = _mini_raw()
    del raw[0]["logs"]
    path.write_text(json.dumps(raw), encoding="utf-8")


def _bad_label(path: Path) -> None:
    raw = _mini_raw()
    raw[2]["ground_truth"]["action_needed"] = "panic"
    path.write_text(json.dumps(raw), encoding="utf-8")


def _duplicate_ids(path: Path) -> None:
    raw = _mini_raw()
    raw[4]["id"] = "mini-001"
    path.write_text(json.dumps(raw), encoding="utf-8")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _huge(path: Path) -> None:
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)


BAD_INPUTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "malformed JSON": (_malformed, "is not valid JSON"),
    "missing fields": (_missing_fields, "sample mini-001: logs: Field required"),
    "label outside taxonomy": (_bad_label, "sample mini-003: ground_truth.action_needed: 'panic' is not in"),
    "duplicate ids": (_duplicate_ids, "sample mini-001: id: duplicate id"),
    "empty file": (_empty, "is empty"),
    "50 MB file": (_huge, "over the 20 MiB limit"),
}


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def test_validate_ok() -> None:
    result = runner.invoke(app, ["dataset", "validate", str(MINI)])
    assert result.exit_code == 0 and result.output.strip() == "ok: 5 samples"


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_validate_bad_input_is_clear_lines_and_exit_1(tmp_path: Path, case: str) -> None:
    make, message = BAD_INPUTS[case]
    make(tmp_path / "samples.json")
    result = runner.invoke(app, ["dataset", "validate", str(tmp_path / "samples.json")])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert all(str(tmp_path / "samples.json") in line for line in _lines(result.output))


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_freeze_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    make, message = BAD_INPUTS[case]
    make(tmp_path / "src.json")
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    result = runner.invoke(app, ["dataset", "freeze", str(tmp_path / "src.json"), "--version", "golden-v1",
                                 "--datasets-dir", str(datasets)])
    assert result.exit_code == 1
    assert len(_lines(result.output)) == 1 and result.output.startswith("error: ")
    assert message in result.output and "Traceback" not in result.output
    assert list(datasets.iterdir()) == []


@pytest.mark.parametrize("case", ["malformed JSON", "duplicate ids", "empty file", "50 MB file"])
def test_combine_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    make, _ = BAD_INPUTS[case]
    make(tmp_path / "src.json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps(_mini_raw()[:1]), encoding="utf-8")
    result = runner.invoke(app, ["dataset", "combine", str(tmp_path / "src.json"), str(other),
                                 "--out", str(tmp_path / "out.json")])
    assert result.exit_code == 1 and len(_lines(result.output)) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "out.json").exists()


def test_combine_validate_freeze_analyze_round_trip(tmp_path: Path) -> None:
    raw = _mini_raw()
    (tmp_path / "a.json").write_text(json.dumps(raw[:3]), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(raw[3:]), encoding="utf-8")
    out = tmp_path / "combined.json"
    result = runner.invoke(app, ["dataset", "combine", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                                 "--out", str(out), "--seed", "7"])
    assert result.exit_code == 0 and "5 samples" in result.output and "seed 7" in result.output
    assert runner.invoke(app, ["dataset", "validate", str(out)]).output.strip() == "ok: 5 samples"
    datasets = tmp_path / "datasets"
    result = runner.invoke(app, ["dataset", "freeze", str(out), "--version", "golden-v1", "--description",
                                 "round trip", "--datasets-dir", str(datasets)])
    assert result.exit_code == 0 and "froze" in result.output
    assert runner.invoke(app, ["dataset", "validate", str(datasets / "golden-v1")]).exit_code == 0
    result = runner.invoke(app, ["dataset", "analyze", str(datasets / "golden-v1"), "--json"])
    analysis = json.loads(result.output)
    assert analysis["version"] == "golden-v1" and analysis["sample_count"] == 5


def test_freeze_refuses_to_overwrite_a_version(tmp_path: Path) -> None:
    args = ["dataset", "freeze", str(MINI / "samples.json"), "--version", "golden-v1",
            "--datasets-dir", str(tmp_path)]
    assert runner.invoke(app, args).exit_code == 0
    before = (tmp_path / "golden-v1" / "metadata.json").read_bytes()
    result = runner.invoke(app, [*args, "--description", "changed"])
    assert result.exit_code == 1 and "versions are immutable" in result.output
    assert (tmp_path / "golden-v1" / "metadata.json").read_bytes() == before


def test_analyze_prints_tables_and_recommendations() -> None:
    result = runner.invoke(app, ["dataset", "analyze", str(MINI)])
    assert result.exit_code == 0
    for title in ("severity distribution", "namespace distribution", "root_cause distribution",
                  "action distribution", "split distribution", "labeling completeness", "lines per sample"):
        assert title in result.output
    assert "recommendation:" in result.output and "all coverage targets met" not in result.output


def test_analyze_unknown_dataset_is_one_line() -> None:
    result = runner.invoke(app, ["dataset", "analyze", "golden-v999"])
    assert result.exit_code == 1 and len(_lines(result.output)) == 1 and "not found" in result.output


def test_datasets_dir_option_is_hidden() -> None:
    result = runner.invoke(app, ["dataset", "freeze", "--help"])
    assert result.exit_code == 0 and "--datasets-dir" not in result.output and "--version" in result.output
