"""dataset_freeze.py: seeded stratified splits, combining sources, and immutable, all-or-nothing freezing."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI_GOLDEN as MINI
from conftest import mini_raw as _mini_raw
from conftest import write_json as _write

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.core.files import file_sha256
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.data.freeze import assign_splits, build_metadata, combine_sources, freeze_version


def _stubs(sizes: dict[str, int]) -> list[dict[str, Any]]:
    return [{"id": f"{cat}-{i:03d}", "category": cat} for cat, n in sizes.items() for i in range(n)]


SIZES = {"pod_lifecycle": 25, "network": 20, "dns": 10, "config": 15, "healthy": 12, "storage": 8,
         "image_pull": 9, "llm_inference": 14, "observability": 17, "application": 11, "infrastructure": 9}


def test_splits_are_40_20_40_overall_and_within_each_category() -> None:
    samples = assign_splits(_stubs(SIZES), seed=7, stratify="category")
    overall = Counter(s["split"] for s in samples)
    assert sum(overall.values()) == 150
    for split, target in (("train", 60), ("dev", 30), ("test", 60)):
        assert abs(overall[split] - target) <= 3, overall
    for category, n in SIZES.items():
        counts = Counter(s["split"] for s in samples if s["category"] == category)
        for split, fraction in (("train", 0.4), ("dev", 0.2), ("test", 0.4)):
            assert abs(counts[split] - n * fraction) <= 1.2, (category, counts)


def test_splits_are_seeded_sorted_and_leave_global_random_alone() -> None:
    stubs = _stubs(SIZES)
    state = random.getstate()
    first = assign_splits(stubs, seed=7)
    assert random.getstate() == state
    assert first == assign_splits(list(reversed(stubs)), seed=7)
    assert [s["split"] for s in first] != [s["split"] for s in assign_splits(stubs, seed=8)]
    assert [s["id"] for s in first] == sorted(s["id"] for s in stubs)
    assert "split" not in stubs[0]


def test_adding_samples_to_one_category_keeps_the_other_categories_splits() -> None:
    before = {s["id"]: s["split"] for s in assign_splits(_stubs(SIZES), seed=7, stratify="category")}
    after = {s["id"]: s["split"] for s in assign_splits(_stubs(SIZES | {"dns": 14}), seed=7, stratify="category")}
    assert {k: v for k, v in after.items() if not k.startswith("dns-")} == {
        k: v for k, v in before.items() if not k.startswith("dns-")}


def _labeled(sizes: dict[str, int]) -> list[dict[str, Any]]:
    return [{"id": f"{cause}-{i:03d}", "category": "x", "ground_truth": {"root_cause": cause}}
            for cause, n in sizes.items() for i in range(n)]


CAUSES = {"nxdomain": 2, "dns_timeout": 3, "container_oom_killed": 4, "pvc_pending": 9, "rate_limited": 1}


def test_root_cause_split_puts_two_train_examples_before_any_test_one() -> None:
    samples = assign_splits(_labeled(CAUSES), seed=7)
    by_cause = {cause: Counter(s["split"] for s in samples if s["ground_truth"]["root_cause"] == cause)
                for cause in CAUSES}
    for cause, counts in by_cause.items():
        assert counts["test"] == 0 or counts["train"] >= 2, (cause, counts)
    assert by_cause["nxdomain"] == Counter(train=2) and by_cause["rate_limited"] == Counter(train=1)
    assert by_cause["dns_timeout"] == Counter(train=2, test=1)
    assert by_cause["pvc_pending"]["test"] >= 2 and by_cause["pvc_pending"]["train"] >= 3


def test_root_cause_split_of_one_cause_ignores_the_others() -> None:
    before = {s["id"]: s["split"] for s in assign_splits(_labeled(CAUSES), seed=7)}
    after = {s["id"]: s["split"] for s in assign_splits(_labeled(CAUSES | {"nxdomain": 6}), seed=7)}
    assert {k: v for k, v in after.items() if not k.startswith("nxdomain")} == {
        k: v for k, v in before.items() if not k.startswith("nxdomain")}


def test_combine_merges_sources_sorted_by_id_with_splits(tmp_path: Path) -> None:
    raw = _mini_raw()
    a = _write(tmp_path / "a.json", [raw[4], raw[0], raw[2]])
    b = _write(tmp_path / "b.json", [raw[3], raw[1]])
    combined = combine_sources([a, b], out=tmp_path / "out" / "samples.json", seed=7)
    written = json.loads((tmp_path / "out" / "samples.json").read_text(encoding="utf-8"))
    assert written == combined
    assert [s["id"] for s in written] == [f"mini-00{i}" for i in range(1, 6)]
    assert {s["split"] for s in written} <= {"train", "dev", "test"}


def test_combine_refuses_duplicate_ids_and_writes_nothing(tmp_path: Path) -> None:
    raw = _mini_raw()
    a = _write(tmp_path / "a.json", raw[:3])
    b = _write(tmp_path / "b.json", raw[2:])
    with pytest.raises(DatasetError, match=r"duplicate sample ids: mini-003 \(a.json and b.json\)"):
        combine_sources([a, b], out=tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_freeze_writes_samples_and_metadata_that_load(tmp_path: Path) -> None:
    target = freeze_version(MINI / "samples.json", version="golden-v1", description="test set",
                            datasets_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["golden-v1"]
    metadata = json.loads((target / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["sha256"] == file_sha256(target / "samples.json")
    assert metadata["version"] == "golden-v1" and metadata["description"] == "test set"
    assert metadata["sample_count"] == 5 and metadata["format_version"] == 1
    assert metadata["splits"] == {"train": 2, "dev": 1, "test": 2}
    assert metadata["real_vs_synthetic"] == {"synthetic": 5}
    assert metadata["category_distribution"]["pod_lifecycle"] == 1
    assert len(load_dataset(str(target)).samples) == 5


def test_versions_are_immutable(tmp_path: Path) -> None:
    target = freeze_version(MINI / "samples.json", version="golden-v1", datasets_dir=tmp_path)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(DatasetError, match="already exists: versions are immutable"):
        freeze_version(MINI / "samples.json", version="golden-v1", description="again", datasets_dir=tmp_path)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before


def test_a_later_version_needs_a_changelog_entry(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="has no '## golden-v2' entry"):
        freeze_version(MINI / "samples.json", version="golden-v2", datasets_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n## golden-v2\n\n- more samples\n",
                                           encoding="utf-8")
    assert freeze_version(MINI / "samples.json", version="golden-v2", datasets_dir=tmp_path).is_dir()


@pytest.mark.parametrize("version", ["v1", "golden-v0", "golden-v1/../x", "golden-1"])
def test_bad_version_names_are_refused(tmp_path: Path, version: str) -> None:
    with pytest.raises(DatasetError, match="must look like golden-vN"):
        freeze_version(MINI / "samples.json", version=version, datasets_dir=tmp_path)


def test_an_invalid_source_writes_nothing(tmp_path: Path) -> None:
    raw = _mini_raw()
    raw[0]["ground_truth"]["root_cause"] = "gpu_melted"
    del raw[1]["split"]
    src = _write(tmp_path / "src.json", raw)
    datasets = tmp_path / "datasets"
    message = r"does not validate, nothing written: .*gpu_melted.* \(and 1 more\)"
    with pytest.raises(DatasetError, match=message):
        freeze_version(src, version="golden-v1", datasets_dir=datasets)
    assert not datasets.exists() or list(datasets.iterdir()) == []


def test_build_metadata_records_counts_and_checksum() -> None:
    metadata = build_metadata(_mini_raw(), version="golden-v9", description="d", sha256="ab" * 32)
    assert set(metadata) >= {"format_version", "version", "created", "description", "sample_count",
                             "severity_distribution", "namespace_distribution", "category_distribution",
                             "root_cause_distribution", "real_vs_synthetic", "splits", "sha256"}
    assert metadata["severity_distribution"] == {"error": 2, "warn": 2, "info": 1}


def test_combine_never_writes_inside_a_frozen_version(tmp_path: Path) -> None:
    frozen = tmp_path / "golden-v1"
    frozen.mkdir()
    (frozen / "metadata.json").write_text("{}")
    (frozen / "samples.json").write_text("[]")
    source = _write(tmp_path / "a.json", _mini_raw())
    with pytest.raises(DatasetError, match="inside the frozen version golden-v1"):
        combine_sources([source], out=frozen / "samples.json")
    assert (frozen / "samples.json").read_text() == "[]"
