"""dataset.py: the Sample contract, loading a version or a file, checksums and the one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import MINI_GOLDEN as MINI
from conftest import mini_raw as _mini_raw
from conftest import write_json as _write

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.core.files import file_sha256
from dspy_logeval.data.dataset import (
    Sample,
    load_dataset,
    parse_sample,
    read_samples_json,
    render_logs,
    resolve_dataset_path,
)


def test_mini_golden_loads_with_its_frozen_checksum() -> None:
    dataset = load_dataset(str(MINI))
    metadata = json.loads((MINI / "metadata.json").read_text(encoding="utf-8"))
    assert dataset.version == "mini-golden"
    assert dataset.sha256 == metadata["sha256"] == file_sha256(MINI / "samples.json")
    assert [len(dataset.split(name)) for name in ("train", "dev", "test")] == [2, 1, 2]
    assert len({s.category for s in dataset.samples}) == 5
    assert any("OOMKilled" in line.message for s in dataset.samples for line in s.logs)


def test_a_tampered_version_is_refused(tmp_path: Path) -> None:
    copy = Path(shutil.copytree(MINI, tmp_path / "golden-v1"))
    raw = _mini_raw()
    raw[0]["ground_truth"]["summary"] = "edited after freezing"
    _write(copy / "samples.json", raw)
    with pytest.raises(DatasetError, match="no longer matches the sha256"):
        load_dataset(str(copy))


def test_a_plain_samples_file_loads_and_keeps_unknown_keys(tmp_path: Path) -> None:
    raw = _mini_raw()
    raw[0]["team"] = "sre"
    dataset = load_dataset(str(_write(tmp_path / "mine.json", raw)))
    assert dataset.version == "mine" and dataset.samples[0].model_extra == {"team": "sre"}


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"[{\"id\": ", "is not valid JSON"),
    (b"{\"id\": \"x\"}", "non-empty JSON list"),
    (b"[]", "non-empty JSON list"),
])
def test_unusable_files_are_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "samples.json"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        read_samples_json(path)


def test_a_50_mb_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: costs no disk and no time
    with pytest.raises(DatasetError, match="over the 20 MiB limit"):
        read_samples_json(path)


def test_parse_error_names_file_sample_and_field(tmp_path: Path) -> None:
    raw = _mini_raw()[0]
    del raw["ground_truth"]["component"]
    message = r"x\.json: sample mini-001: ground_truth\.component: Field required"
    with pytest.raises(DatasetError, match=message):
        parse_sample(raw, path=tmp_path / "x.json", index=0)


def test_labels_outside_the_taxonomy_are_rejected() -> None:
    raw = _mini_raw()[0]
    raw["ground_truth"]["root_cause"] = "gpu_melted"
    with pytest.raises(ValueError, match="root_cause 'gpu_melted' is not in taxonomy.yaml"):
        Sample.model_validate(raw)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    raw = _mini_raw()
    raw[1]["id"] = raw[0]["id"]
    with pytest.raises(DatasetError, match="sample mini-001: id: duplicate id"):
        load_dataset(str(_write(tmp_path / "dup.json", raw)))


def test_unknown_dataset_and_missing_split_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        resolve_dataset_path("golden-v999")
    raw = [{k: v for k, v in s.items() if k != "split"} for s in _mini_raw()]
    dataset = load_dataset(str(_write(tmp_path / "nosplit.json", raw)))
    assert len(dataset.split("all")) == 5
    with pytest.raises(DatasetError, match="use --split all"):
        dataset.split("test")


def test_render_logs_is_one_line_per_entry() -> None:
    sample = load_dataset(str(MINI)).samples[0]
    rendered = render_logs(sample.logs)
    assert rendered.count("\n") == len(sample.logs) - 1
    assert rendered.startswith("2025-03-14T09:12:03Z log-analyzer/log-analyzer-api-7d9f8c6b5-x2kqp api: INFO")


def test_evaluate_and_validate_share_one_rule_set(tmp_path: Path) -> None:
    """A sample `dataset validate` rejects (top-level severity off the taxonomy, or disagreeing) never loads."""
    from dspy_logeval.data.checks import validate_dataset

    for change in ({"severity": "urgent"}, {"severity": "info"}, {"category": "dns"}):
        raw = _mini_raw()
        raw[0] |= change
        path = tmp_path / f"bad-{len(change)}-{next(iter(change.values()))}.json"
        path.write_text(json.dumps(raw), encoding="utf-8")
        assert not validate_dataset(str(path)).ok
        with pytest.raises(DatasetError, match="labels disagree with taxonomy.yaml|not in taxonomy.yaml"):
            load_dataset(str(path))
