"""Unlabeled samples: what `dataset extract` (and nothing else) writes, and what `dataset label` reads.

The file is a JSON object, not a bare list, so it can never pass for a golden set by accident::

    {"format_version": 1, "kind": "unlabeled-samples", "extracted_at": ..., "loki": ..., "samples": [...]}

Each sample is a Sample without ``ground_truth`` and ``category``: ``id``, ``namespace``, ``severity`` (the
detected one, a hint for the reviewer), ``logs``, ``source`` and ``extraction_metadata``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.dataset import LogLine, read_samples_json

__all__ = ["FORMAT_VERSION", "KIND", "UnlabeledSample", "read_unlabeled", "write_json_file", "write_unlabeled"]

FORMAT_VERSION = 1
KIND = "unlabeled-samples"


class UnlabeledSample(BaseModel):
    """One extracted sample waiting for its labels."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)
    namespace: str
    severity: str = "info"
    logs: list[LogLine] = Field(min_length=1)
    source: Literal["real", "synthetic"] = "real"
    extraction_metadata: dict[str, Any] = Field(default_factory=dict)


def write_json_file(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename: readers never see half a file, errors leave none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_unlabeled(path: Path, samples: Sequence[dict[str, Any]], *, header: dict[str, Any]) -> None:
    """Write SAMPLES as an unlabeled-samples file (atomically), HEADER fields first."""
    write_json_file(path, {"format_version": FORMAT_VERSION, "kind": KIND, **header, "samples": list(samples)})


def read_unlabeled(path: Path) -> list[UnlabeledSample]:
    """The samples of an unlabeled-samples file (a plain list of samples is accepted too)."""
    if path.is_file() and path.stat().st_size:
        try:
            head = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path} is not valid JSON: {exc}") from None
        if isinstance(head, dict) and head.get("kind") == KIND and head.get("format_version") != FORMAT_VERSION:
            raise DatasetError(f"{path}: format_version {head.get('format_version')!r} is not "
                               f"{FORMAT_VERSION}; re-run `logeval dataset extract`")
    raw = read_samples_json(path)
    samples = []
    for index, item in enumerate(raw):
        try:
            samples.append(UnlabeledSample.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            sample_id = item.get("id", f"#{index}") if isinstance(item, dict) else f"#{index}"
            field = ".".join(str(p) for p in err["loc"]) or "sample"
            raise DatasetError(f"{path}: sample {sample_id}: {field}: {err['msg']}") from None
    return samples
