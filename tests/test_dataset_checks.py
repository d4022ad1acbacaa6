"""dataset_checks.py: `validate` collects every problem, one line naming file, sample id and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI_GOLDEN as MINI
from conftest import mini_raw as _mini_raw
from conftest import write_json as _write

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.checks import check_samples, validate_dataset


def test_the_mini_golden_set_validates() -> None:
    report = validate_dataset(str(MINI))
    assert report.ok and report.sample_count == 5 and report.problems == []


def test_every_problem_is_collected_with_file_id_and_field(tmp_path: Path) -> None:
    raw = _mini_raw()
    raw[0]["ground_truth"]["root_cause"] = "gpu_melted"
    del raw[2]["ground_truth"]["component"]
    raw[4]["logs"] = []
    src = tmp_path / "src.json"
    problems = check_samples(raw, path=src)
    assert problems == [
        f"{src}: sample mini-001: ground_truth.root_cause: 'gpu_melted' is not in taxonomy.yaml "
        "(container_oom_killed, crashloop_backoff, pod_evicted, container_exit_nonzero, probe_failed, "
        "image_pull_failed, image_pull_backoff, image_not_found, registry_unreachable, connection_refused, "
        "connection_timeout, network_unreachable, … 36 more)",
        f"{src}: sample mini-003: ground_truth.component: Field required",
        f"{src}: sample mini-005: logs: List should have at least 1 item after validation, not 0",
    ]


@pytest.mark.parametrize(("where", "field", "value"), [
    ("top", "category", "weather"),
    ("top", "severity", "urgent"),
    ("truth", "severity", "urgent"),
    ("truth", "action_needed", "panic"),
    ("truth", "root_cause", "gpu_melted"),
])
def test_each_label_outside_the_taxonomy_names_its_field(tmp_path: Path, where: str, field: str,
                                                         value: str) -> None:
    raw = _mini_raw()
    (raw[1] if where == "top" else raw[1]["ground_truth"])[field] = value
    problems = check_samples(raw, path=tmp_path / "s.json")
    name = field if where == "top" else f"ground_truth.{field}"
    assert any(f"sample mini-002: {name}: '{value}' is not in taxonomy.yaml" in p for p in problems), problems


def test_category_must_be_the_root_causes_category_and_severities_must_agree(tmp_path: Path) -> None:
    raw = _mini_raw()
    raw[0]["category"] = "network"          # container_oom_killed is pod_lifecycle
    raw[1]["severity"] = "critical"         # ground_truth.severity is error
    problems = check_samples(raw, path=tmp_path / "s.json")
    assert any("sample mini-001: category: 'network' but root cause 'container_oom_killed' belongs to "
               "'pod_lifecycle'" in p for p in problems)
    assert any("sample mini-002: severity: 'critical' differs from ground_truth.severity 'error'" in p
               for p in problems)
    assert len(problems) == 2


def test_duplicate_ids_and_copied_message_lines_are_reported(tmp_path: Path) -> None:
    raw = _mini_raw()
    raw[3]["id"] = "mini-001"
    raw[2]["logs"].append(dict(raw[1]["logs"][0]))
    raw[2]["logs"].append(dict(raw[2]["logs"][0]))   # repeated inside one sample: fine
    problems = check_samples(raw, path=tmp_path / "s.json")
    assert any("sample mini-001: id: duplicate id (samples #0 and #3)" in p for p in problems)
    assert [p for p in problems if "message" in p] == [
        f"{tmp_path / 's.json'}: sample mini-003: logs[2].message: same message as sample mini-002: "
        "'{\"level\":\"error\",\"msg\":\"failed to checkout and determine revision: un…'"]


def test_non_objects_and_missing_splits_are_problems(tmp_path: Path) -> None:
    raw: list[Any] = _mini_raw()
    del raw[0]["split"]
    raw.append("not a sample")
    problems = check_samples(raw, path=tmp_path / "s.json", require_splits=True)
    assert any("sample mini-001: split: missing" in p for p in problems)
    assert any("sample #5: sample: not a JSON object" in p for p in problems)


def test_metadata_counts_and_checksum_must_match(tmp_path: Path) -> None:
    copy = Path(shutil.copytree(MINI, tmp_path / "golden-v1"))
    metadata = json.loads((copy / "metadata.json").read_text(encoding="utf-8"))
    metadata["sample_count"] = 6
    metadata["splits"]["dev"] = 2
    _write(copy / "metadata.json", metadata)
    raw = _mini_raw()
    raw[0]["ground_truth"]["summary"] = "edited after freezing"
    _write(copy / "samples.json", raw)
    problems = validate_dataset(str(copy)).problems
    assert [p.split(": ")[2] for p in problems] == ["sha256", "sample_count", "splits"]
    assert "metadata says 6, samples.json has 5" in problems[1]


def test_unreadable_files_raise_one_dataset_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("[{", encoding="utf-8")
    with pytest.raises(DatasetError, match="is not valid JSON"):
        validate_dataset(str(tmp_path / "bad.json"))
    with pytest.raises(DatasetError, match="not found"):
        validate_dataset(str(tmp_path / "missing.json"))
