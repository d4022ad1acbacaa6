"""`logeval dataset validate`: every problem in a samples.json and its metadata.json, one line each.

A problem line names the file, the sample id and the field, e.g.
``sources/llm-apps.json: sample llm-017: ground_truth.root_cause: 'gpu_oom' is not in taxonomy.yaml``.
Unlike ``load_dataset`` (which stops at the first bad sample), validation goes on to the end so a writer sees
everything to fix in one pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dspy_logeval.core.files import file_sha256
from dspy_logeval.data.analysis import metadata_counts
from dspy_logeval.data.dataset import LABEL_RULES_MARK, Sample, label_problems, read_samples_json, resolve_dataset_path
from dspy_logeval.data.taxonomy import load_taxonomy

__all__ = ["ValidationReport", "check_samples", "validate_dataset"]

SPLITS = ("train", "dev", "test")


@dataclass
class ValidationReport:
    """What `validate` found: the file, how many samples it holds, and one line per problem."""

    path: Path
    sample_count: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_dataset(ref: str, *, require_splits: bool | None = None) -> ValidationReport:
    """Validate a version name, folder or samples.json path and return every problem found.

    Args:
        ref: ``golden-v1``, a dataset folder, or a path to a JSON list of samples.
        require_splits: demand a train/dev/test split on every sample; None decides by itself (yes for a
            frozen version with metadata.json, or when any sample already has a split).

    Returns:
        The report; unreadable files (missing, empty, too large, malformed JSON) raise DatasetError instead.
    """
    _, path = resolve_dataset_path(ref)
    raw = read_samples_json(path)
    metadata_path = path.parent / "metadata.json" if path.name == "samples.json" else None
    has_metadata = metadata_path is not None and metadata_path.is_file()
    if require_splits is None:
        require_splits = has_metadata or any(isinstance(r, dict) and r.get("split") for r in raw)
    problems = check_samples(raw, path=path, require_splits=require_splits)
    if has_metadata and metadata_path is not None:
        problems += _check_metadata(raw, path=path, metadata_path=metadata_path)
    return ValidationReport(path=path, sample_count=len(raw), problems=problems)


def check_samples(raw: Sequence[Any], *, path: Path, require_splits: bool = False) -> list[str]:
    """Problems of a raw sample list: schema, labels, splits, duplicate ids and duplicate message lines."""
    tax = load_taxonomy()
    problems: list[str] = []
    for index, item in enumerate(raw):
        sample_id = _sample_id(item, index)
        if not isinstance(item, dict):
            problems.append(f"{path}: sample {sample_id}: sample: not a JSON object")
            continue
        findings = _schema_problems(item) + label_problems(item, tax)
        if require_splits and item.get("split") is None:
            findings.append(("split", "missing; golden versions need train/dev/test "
                                      "(`logeval dataset combine` assigns them)"))
        problems += [f"{path}: sample {sample_id}: {where}: {what}" for where, what in findings]
    problems += _duplicate_ids(raw, path=path)
    problems += _duplicate_messages(raw, path=path)
    return problems


def _reported_by_label_problems(message: str) -> bool:
    return LABEL_RULES_MARK in message or "not in taxonomy.yaml" in message


def _sample_id(item: Any, index: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
        return str(item["id"])
    return f"#{index}"


def _schema_problems(item: dict[str, Any]) -> list[tuple[str, str]]:
    """Pydantic's findings, minus the taxonomy ones that _label_problems reports field by field."""
    try:
        Sample.model_validate(item)
    except ValidationError as exc:
        return [(".".join(str(p) for p in err["loc"]) or "sample", err["msg"])
                for err in exc.errors() if not _reported_by_label_problems(err["msg"])]
    return []


def _duplicate_ids(raw: Sequence[Any], *, path: Path) -> list[str]:
    first_index: dict[str, int] = {}
    problems = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        if item["id"] in first_index:
            problems.append(f"{path}: sample {item['id']}: id: duplicate id "
                            f"(samples #{first_index[item['id']]} and #{index})")
        else:
            first_index[item["id"]] = index
    return problems


def _duplicate_messages(raw: Sequence[Any], *, path: Path) -> list[str]:
    """A message line copied into a second sample (lines repeated inside one sample are fine)."""
    owner: dict[str, str] = {}
    problems = []
    for index, item in enumerate(raw):
        logs = item.get("logs") if isinstance(item, dict) else None
        if not isinstance(logs, list):
            continue
        sample_id = _sample_id(item, index)
        for line_no, line in enumerate(logs):
            message = line.get("message") if isinstance(line, dict) else None
            if not isinstance(message, str) or not message.strip():
                continue
            key = " ".join(message.split())
            first = owner.setdefault(key, sample_id)
            if first != sample_id:
                problems.append(f"{path}: sample {sample_id}: logs[{line_no}].message: "
                                f"same message as sample {first}: {_clip(message)!r}")
    return problems


def _clip(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_metadata(raw: Sequence[Any], *, path: Path, metadata_path: Path) -> list[str]:
    """metadata.json against the samples: sha256 and every count it records."""
    where = f"{metadata_path}: metadata"
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [f"{where}: file: not valid JSON: {exc}"]
    if not isinstance(metadata, dict):
        return [f"{where}: file: not a JSON object"]
    problems = []
    sha = file_sha256(path)
    if metadata.get("sha256") != sha:
        problems.append(f"{where}: sha256: {str(metadata.get('sha256'))[:12]}… recorded, samples.json is "
                        f"{sha[:12]}… (frozen versions are immutable; freeze a new version instead)")
    for key, actual in metadata_counts([r for r in raw if isinstance(r, dict)]).items():
        if metadata.get(key) != actual:
            problems.append(f"{where}: {key}: metadata says {metadata.get(key)!r}, "
                            f"samples.json has {actual!r}")
    return problems
