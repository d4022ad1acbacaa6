"""Golden versions: combine source files, assign seeded stratified splits, and freeze an immutable version.

``combine`` turns the hand-written source arrays into one samples.json with a split on every sample;
``freeze`` validates it and writes ``datasets/golden-vN/{samples,metadata}.json`` all at once or not at all.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.core.files import file_sha256, write_json_atomic
from dspy_logeval.core.paths import DATASETS_DIR
from dspy_logeval.data.analysis import metadata_counts
from dspy_logeval.data.checks import check_samples
from dspy_logeval.data.dataset import read_samples_json

__all__ = ["DATASET_FORMAT_VERSION", "SPLIT_FRACTIONS", "assign_splits", "build_metadata", "combine_sources",
           "freeze_version", "read_sources", "write_samples"]

DATASET_FORMAT_VERSION = 1
SPLIT_FRACTIONS: dict[str, float] = {"train": 0.4, "dev": 0.2, "test": 0.4}
# SPLIT_FRACTIONS as a repeating deal; train and test alternate, so a category of two is rarely left untested
SPLIT_CYCLE = ("train", "test", "train", "test", "dev")
VERSION_PATTERN = re.compile(r"golden-v([1-9][0-9]*)")


Stratify = Literal["root_cause", "category"]
MIN_TRAIN_PER_TEST_LABEL = 2
"""A root cause reaches test only with at least this many train examples (a demo-based program can learn it)."""


def assign_splits(samples: Sequence[dict[str, Any]], *, seed: int = 7, stratify: Stratify = "root_cause"
                  ) -> list[dict[str, Any]]:
    """Copies of SAMPLES, sorted by id, with `split` set to train/dev/test, stratified by root cause or category.

    Each group is shuffled by its own ``random.Random`` seeded from SEED and the group's label (never the global
    ``random``), so a group keeps its split when other groups change. By root cause (the default since
    golden-v2), the first two samples of a group go to train and the third to test, so every root cause in test
    has at least two train examples, and a root cause with fewer than three samples stays in train; the rest is
    dealt from the repeating SPLIT_CYCLE (40/20/40) at a seeded position. By category (golden-v1), the whole
    group is dealt from SPLIT_CYCLE.

    Example:
        >>> from collections import Counter
        >>> rows = [{"id": f"dns-{i}", "category": "dns", "ground_truth": {"root_cause": "nxdomain"}}
        ...         for i in range(10)]
        >>> sorted(Counter(s["split"] for s in assign_splits(rows, seed=7, stratify="category")).items())
        [('dev', 2), ('test', 4), ('train', 4)]
        >>> Counter(s["split"] for s in assign_splits(rows[:4], seed=7))["train"] >= 2
        True
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sample in samples:
        groups[_group_key(sample, stratify)].append(dict(sample))
    result: list[dict[str, Any]] = []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda s: str(s.get("id")))
        rng = random.Random(f"{seed}:{key}")
        rng.shuffle(group)
        start = rng.randrange(len(SPLIT_CYCLE))
        for position, sample in enumerate(group):
            sample["split"] = _deal(position, len(group), start=start, stratify=stratify)
            result.append(sample)
    return sorted(result, key=lambda s: str(s.get("id")))


def _group_key(sample: Mapping[str, Any], stratify: Stratify) -> str:
    if stratify == "category":
        return str(sample.get("category"))
    return str((sample.get("ground_truth") or {}).get("root_cause"))


def _deal(position: int, size: int, *, start: int, stratify: Stratify) -> str:
    if stratify == "category":
        return SPLIT_CYCLE[(start + position) % len(SPLIT_CYCLE)]
    if position < MIN_TRAIN_PER_TEST_LABEL or size <= MIN_TRAIN_PER_TEST_LABEL:
        return "train"
    if position == MIN_TRAIN_PER_TEST_LABEL:
        return "test"
    return SPLIT_CYCLE[(start + position) % len(SPLIT_CYCLE)]


def combine_sources(sources: Sequence[Path], *, out: Path, seed: int = 7) -> list[dict[str, Any]]:
    """Merge source arrays into OUT, sorted by id, with splits; raise DatasetError before writing anything.

    Args:
        sources: JSON files, each a list of samples (any `split` they carry is replaced).
        out: the samples.json to write.
        seed: split seed, recorded by the caller (the CLI prints it).

    Returns:
        The samples as written.
    """
    combined = assign_splits(read_sources(sources), seed=seed)
    write_samples(out, combined)
    return combined


def read_sources(sources: Sequence[Path]) -> list[dict[str, Any]]:
    """Every sample of SOURCES in order; DatasetError for a sample without an id or an id used twice."""
    merged: list[dict[str, Any]] = []
    origin: dict[str, Path] = {}
    duplicates: list[str] = []
    for source in sources:
        for index, item in enumerate(read_samples_json(source)):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                raise DatasetError(f"{source}: sample #{index}: id: missing (every sample needs a string id)")
            if item["id"] in origin:
                duplicates.append(f"{item['id']} ({origin[item['id']].name} and {source.name})")
            origin.setdefault(item["id"], source)
            merged.append(item)
    if duplicates:
        raise DatasetError(f"duplicate sample ids: {', '.join(duplicates)}; "
                           "ids must be unique across sources")
    return merged


def write_samples(path: Path, samples: Sequence[dict[str, Any]]) -> None:
    """Write a samples.json the way golden versions store it (2-space indent, UTF-8, trailing newline); never
    into a frozen version's folder (one with a metadata.json), which only `freeze` writes, once."""
    refuse_frozen_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(list(samples), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def refuse_frozen_target(path: Path) -> None:
    """DatasetError when PATH lies inside a frozen version's folder: a frozen set is never overwritten."""
    for folder in (path.parent, *path.parent.parents):
        if (folder / "metadata.json").is_file():
            raise DatasetError(f"{path} is inside the frozen version {folder.name} ({folder}): frozen sets never "
                               "change; write to another path, then `logeval dataset freeze` a new version")


def build_metadata(samples: Sequence[dict[str, Any]], *, version: str, description: str, sha256: str,
                   created: datetime | None = None) -> dict[str, Any]:
    """metadata.json for a version: provenance fields, the label counts `validate` re-checks, the sha256."""
    return {
        "format_version": DATASET_FORMAT_VERSION,
        "version": version,
        "created": (created or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "description": description,
        **metadata_counts(samples),
        "split_fractions": SPLIT_FRACTIONS,
        "sha256": sha256,
    }


def freeze_version(src: Path, *, version: str, description: str = "",
                   datasets_dir: Path = DATASETS_DIR) -> Path:
    """Validate SRC and write it as DATASETS_DIR/VERSION (samples.json + metadata.json); return that folder.

    Versions are immutable: an existing folder is never touched, golden-vN for N > 1 needs a ``## golden-vN``
    entry in DATASETS_DIR/CHANGELOG.md, and on any failure nothing is left behind.
    """
    target = datasets_dir / version
    _check_version_name(version, datasets_dir=datasets_dir)
    if target.exists():
        raise DatasetError(f"{target} already exists: versions are immutable; freeze a new version "
                           f"(golden-vN+1) instead")
    samples = _validated_samples(src)
    staging = datasets_dir / f".{version}.{os.getpid()}.tmp"
    try:
        staging.mkdir(parents=True)
        write_samples(staging / "samples.json", samples)
        metadata = build_metadata(samples, version=version, description=description,
                                  sha256=file_sha256(staging / "samples.json"))
        write_json_atomic(staging / "metadata.json", metadata)
        os.rename(staging, target)
    except OSError as exc:
        raise DatasetError(f"could not write {target}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _check_version_name(version: str, *, datasets_dir: Path) -> None:
    match = VERSION_PATTERN.fullmatch(version)
    if not match:
        raise DatasetError(f"version {version!r} must look like golden-vN (golden-v1, golden-v2, …)")
    if int(match.group(1)) == 1:
        return
    changelog = datasets_dir / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8") if changelog.is_file() else ""
    if not re.search(rf"^##\s+{re.escape(version)}\b", text, flags=re.MULTILINE):
        raise DatasetError(f"{changelog} has no '## {version}' entry: describe what changed since the "
                           f"previous version before freezing {version}")


def _validated_samples(src: Path) -> list[dict[str, Any]]:
    """SRC's samples sorted by id, or DatasetError naming the first problem and how many there are."""
    raw = read_samples_json(src)
    problems = check_samples(raw, path=src, require_splits=True)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DatasetError(f"{src} does not validate, nothing written: {problems[0]}{more}; "
                           f"list them all with `logeval dataset validate {src}`")
    return sorted(raw, key=lambda s: str(s["id"]))
