"""Samples (the golden-set contract), loading a version or a user's samples.json, and splits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.core.files import file_sha256
from dspy_logeval.core.paths import DATASETS_DIR
from dspy_logeval.data.taxonomy import Taxonomy, load_taxonomy

MAX_DATASET_BYTES = 20 * 1024 * 1024
Split = Literal["train", "dev", "test"]


class LogLine(BaseModel):
    """One log entry as Loki would return it."""

    model_config = ConfigDict(extra="allow")
    timestamp: str
    namespace: str
    pod: str
    container: str
    node: str = ""
    message: str


class GroundTruth(BaseModel):
    """The labels an SRE gave the sample; root_cause/severity/action_needed come from the taxonomy."""

    model_config = ConfigDict(extra="forbid")
    root_cause: str
    severity: str
    component: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    action_needed: str

    @model_validator(mode="after")
    def _labels_in_taxonomy(self) -> GroundTruth:
        tax = load_taxonomy()
        for field, allowed in (("root_cause", tax.root_causes), ("severity", tax.severities),
                               ("action_needed", tax.actions)):
            value = getattr(self, field)
            if value not in allowed:
                raise ValueError(f"{field} {value!r} is not in taxonomy.yaml")
        return self


class Sample(BaseModel):
    """One labeled incident: logs plus ground truth (DESIGN.md, Sample contract). Unknown keys are kept."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)
    category: str
    severity: str
    namespace: str
    logs: list[LogLine] = Field(min_length=1)
    ground_truth: GroundTruth
    source: Literal["real", "synthetic"] = "synthetic"
    split: Split | None = None

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in load_taxonomy().categories:
            raise ValueError(f"category {value!r} is not in taxonomy.yaml")
        return value

    @model_validator(mode="after")
    def _labels_agree(self) -> Sample:
        problems = label_problems(self.model_dump(), load_taxonomy())
        if problems:
            raise ValueError(f"{LABEL_RULES_MARK}: " + "; ".join(f"{where}: {what}" for where, what in problems))
        return self


LABEL_RULES_MARK = "labels disagree with taxonomy.yaml"


def label_problems(item: Mapping[str, Any], tax: Taxonomy) -> list[tuple[str, str]]:
    """(field, problem) for the taxonomy labels and the two consistency rules (category of the root cause, severity
    twice): the one rule set `dataset validate` reports field by field and every loaded Sample must pass."""
    raw_truth = item.get("ground_truth")
    truth: dict[str, Any] = raw_truth if isinstance(raw_truth, dict) else {}
    found: list[tuple[str, str]] = []
    checks = (("category", item.get("category"), tuple(tax.categories)),
              ("severity", item.get("severity"), tax.severities),
              ("ground_truth.root_cause", truth.get("root_cause"), tax.root_causes),
              ("ground_truth.severity", truth.get("severity"), tax.severities),
              ("ground_truth.action_needed", truth.get("action_needed"), tax.actions))
    for where, value, allowed in checks:
        if value is not None and value not in allowed:
            found.append((where, f"{value!r} is not in taxonomy.yaml ({_choices(allowed)})"))
    expected_category = tax.category_of(str(truth.get("root_cause")))
    category = item.get("category")
    if expected_category and category in tax.categories and category != expected_category:
        found.append(("category", f"{category!r} but root cause {truth['root_cause']!r} belongs to "
                                  f"{expected_category!r}"))
    severity, truth_severity = item.get("severity"), truth.get("severity")
    if severity in tax.severities and truth_severity in tax.severities and severity != truth_severity:
        found.append(("severity", f"{severity!r} differs from ground_truth.severity {truth_severity!r}"))
    return found


def _choices(allowed: Sequence[str]) -> str:
    shown = ", ".join(allowed[:12])
    return shown + (f", … {len(allowed) - 12} more" if len(allowed) > 12 else "")


@dataclass(frozen=True)
class Dataset:
    """A loaded set of samples and where it came from."""

    version: str
    path: Path
    sha256: str
    samples: list[Sample]

    def split(self, name: str) -> list[Sample]:
        """Samples of one split ('all' = every sample); a set without splits only has 'all'."""
        if name == "all":
            return list(self.samples)
        chosen = [s for s in self.samples if s.split == name]
        if not chosen:
            raise DatasetError(f"{self.path}: no sample has split {name!r}; use --split all for a set without splits")
        return chosen


def resolve_dataset_path(ref: str) -> tuple[str, Path]:
    """(version name, samples.json path) for a version name like golden-v1, a folder, or a samples.json path."""
    candidate = Path(ref)
    if candidate.is_file():
        return candidate.parent.name if candidate.name == "samples.json" else candidate.stem, candidate
    if candidate.is_dir():
        return candidate.name, candidate / "samples.json"
    if "/" not in ref and (DATASETS_DIR / ref).is_dir():
        return ref, DATASETS_DIR / ref / "samples.json"
    known = sorted(p.name for p in DATASETS_DIR.glob("golden-v*") if p.is_dir())
    raise DatasetError(f"dataset {ref!r} not found: give a version ({', '.join(known) or 'none yet'}) "
                       "or a path to a samples.json")


def read_samples_json(path: Path) -> list[Any]:
    """The raw list in a samples.json, with one clear error for each way the file can be unusable."""
    if not path.is_file():
        raise DatasetError(f"{path} not found")
    size = path.stat().st_size
    if size == 0:
        raise DatasetError(f"{path} is empty")
    if size > MAX_DATASET_BYTES:
        raise DatasetError(f"{path} is {size / 1e6:.0f} MB, over the {MAX_DATASET_BYTES // 2**20} MiB limit "
                           "for a samples.json; split it into smaller sets")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path} is not valid JSON: {exc}") from None
    if isinstance(raw, dict) and isinstance(raw.get("samples"), list):
        raw = raw["samples"]
    if not isinstance(raw, list) or not raw:
        raise DatasetError(f"{path} must hold a non-empty JSON list of samples")
    return raw


def parse_sample(raw: Any, *, path: Path, index: int) -> Sample:
    """One raw dict as a Sample; the error names the file, the sample id and the field."""
    sample_id = raw.get("id", f"#{index}") if isinstance(raw, dict) else f"#{index}"
    try:
        return Sample.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "sample"
        raise DatasetError(f"{path}: sample {sample_id}: {field}: {err['msg']}") from None


def load_dataset(ref: str) -> Dataset:
    """Load a golden version (checking its frozen sha256) or any samples.json in the Sample contract."""
    version, path = resolve_dataset_path(ref)
    raw = read_samples_json(path)
    sha = file_sha256(path)
    _check_frozen_checksum(path, sha)
    samples = [parse_sample(item, path=path, index=i) for i, item in enumerate(raw)]
    seen: set[str] = set()
    for sample in samples:
        if sample.id in seen:
            raise DatasetError(f"{path}: sample {sample.id}: id: duplicate id")
        seen.add(sample.id)
    return Dataset(version=version, path=path, sha256=sha, samples=samples)


def _check_frozen_checksum(path: Path, sha: str) -> None:
    metadata_path = path.parent / "metadata.json"
    if not metadata_path.is_file():
        return
    try:
        expected = json.loads(metadata_path.read_text(encoding="utf-8")).get("sha256")
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{metadata_path} is not valid JSON: {exc}") from None
    if expected and expected != sha:
        raise DatasetError(
            f"{path} no longer matches the sha256 frozen in {metadata_path.name} ({expected[:12]}…): versions are "
            f"immutable; put your changes in a new version with `logeval dataset freeze SRC --version golden-vN`")


def render_logs(logs: list[LogLine]) -> str:
    """The model's view of a sample: one line per entry, 'timestamp namespace/pod container: message'.

    Node-level lines (kubelet, containerd, kernel) have no pod: they show the node instead.
    """
    return "\n".join(f"{e.timestamp} {_where(e)} {e.container}: {e.message}" for e in logs)


def _where(entry: LogLine) -> str:
    if entry.pod:
        return f"{entry.namespace}/{entry.pod}" if entry.namespace else entry.pod
    return entry.node or "-"
