"""Prompt artifacts: artifacts/prompts/<name>.json, the exact request a DSPy program sends, without DSPy.

An artifact holds the chat messages with a `{{logs}}` placeholder, the demos as data, the response JSON schema,
the sampling parameters, the model name and where it came from. This module only reads, checks and writes them
(pydantic + json): the production analyzer and the API import it, never dspy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dspy_logeval.core.errors import ArtifactError
from dspy_logeval.core.files import write_json_atomic
from dspy_logeval.core.redact import redact_json
from dspy_logeval.data.taxonomy import Taxonomy, load_taxonomy

ARTIFACT_FORMAT_VERSION = 1
PLACEHOLDER = "{{logs}}"
PRODUCTION_POINTER = "production.json"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$"
# Schema fields whose enum must equal a taxonomy label set.
LABEL_FIELDS = {"root_cause": "root_causes", "severity": "severities", "action_needed": "actions"}


class Message(BaseModel):
    """One chat message; the last user message carries the logs placeholder."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    role: str
    content: str


class Sampling(BaseModel):
    """The sampling parameters the DSPy program sent with every request."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=320, ge=1)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    seed: int = 42


class PoolDemo(BaseModel):
    """One retrievable demo: the logs it is found by, and the user/assistant messages it adds to a request."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    logs: str
    messages: list[Message] = Field(min_length=2, max_length=2)


class Retrieval(BaseModel):
    """Per-request demos (the knn program): the K pool demos most similar to the logs (TF-IDF, as
    data/retrieval.py computes it), least similar first, go between the system message and the logs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    k: int = Field(ge=1)
    method: str = "tfidf-messages-v1"
    pool: list[PoolDemo] = Field(min_length=1)


class Stage(BaseModel):
    """The second request of a staged artifact for one category: messages with the logs placeholder, schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    messages: list[Message] = Field(min_length=1)
    response_format: dict[str, Any]

    def labels(self) -> dict[str, tuple[str, ...]]:
        props = self.response_format.get("json_schema", {}).get("schema", {}).get("properties", {})
        return {name: tuple(props[name].get("enum", ())) for name in LABEL_FIELDS if name in props}

    def render(self, logs: str) -> list[dict[str, str]]:
        return render_messages(self.messages, logs)


def render_messages(messages: Sequence[Message], logs: str, *, demos: Sequence[PoolDemo] = ()
                    ) -> list[dict[str, str]]:
    """MESSAGES with LOGS in place of the placeholder (a single pass: LOGS is never re-scanned), and DEMOS'
    messages after the system message."""
    rendered = [{"role": m.role, "content": m.content.replace(PLACEHOLDER, logs)} for m in messages]
    shots = [{"role": m.role, "content": m.content} for demo in demos for m in demo.messages]
    head = 1 if rendered and rendered[0]["role"] == "system" else 0
    return rendered[:head] + shots + rendered[head:]


class Stages(BaseModel):
    """Two requests (the two_stage program): the artifact's own messages ask for the category; the answer picks
    the stage that asks for the analysis, its root_cause narrowed to that category's labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    by_category: dict[str, Stage] = Field(min_length=1)


class PromptArtifact(BaseModel):
    """Everything the production analyzer needs to send the request the DSPy program sends."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format_version: int
    name: str = Field(pattern=NAME_PATTERN)
    version: int = Field(ge=1)
    messages: list[Message] = Field(min_length=1)
    demos: list[dict[str, Any]] = Field(default_factory=list)
    response_format: dict[str, Any]
    """OpenAI-style {"type": "json_schema", "json_schema": {"name", "strict", "schema"}}."""
    sampling: Sampling = Sampling()
    model: str
    """The model name the program was evaluated with (sent as `model`)."""
    program: str = "predict"
    template: str = "root_cause_v1"
    provenance: dict[str, Any] = Field(default_factory=dict)
    """source_run, compiled, dataset {version, sha256}, test_metrics, config."""
    created: str = ""
    retrieval: Retrieval | None = None
    """Set for programs that pick their demos per request (knn); None: the demos are in `messages`."""
    stages: Stages | None = None
    """Set for the two_stage program: `messages` ask for the category, `stages` for the analysis."""

    def json_schema(self) -> dict[str, Any]:
        """The response JSON schema."""
        return dict(self.response_format.get("json_schema", {}).get("schema", {}))

    @property
    def output_fields(self) -> list[str]:
        return list(self.json_schema().get("properties", {}))

    def labels(self) -> dict[str, tuple[str, ...]]:
        """The closed label sets in the schema's enums, by field name."""
        props = self.json_schema().get("properties", {})
        return {name: tuple(props[name].get("enum", ())) for name in LABEL_FIELDS if name in props}

    def render(self, logs: str, *, demos: Sequence[PoolDemo] = ()) -> list[dict[str, str]]:
        """The messages with LOGS in place of the placeholder, and DEMOS' messages after the system message."""
        return render_messages(self.messages, logs, demos=demos)

    @property
    def source_run(self) -> str | None:
        value = self.provenance.get("source_run")
        return str(value) if value else None

    def meta(self) -> dict[str, Any]:
        """What an API answer says about the prompt it used."""
        return {"name": self.name, "version": self.version, "source_run": self.source_run}


def check_artifact(artifact: PromptArtifact, *, where: str, taxonomy: Taxonomy | None = None) -> PromptArtifact:
    """Raise ArtifactError when the placeholder is not there exactly once or the labels left the taxonomy."""
    tax = taxonomy or load_taxonomy()
    _check_messages(artifact.messages, where=where)
    _check_labels(artifact.labels(), tax, where=where)
    for category, stage in (artifact.stages.by_category.items() if artifact.stages else ()):
        _check_messages(stage.messages, where=f"{where}, stage {category}")
        labels = stage.labels()
        if set(labels.get("root_cause", ())) != set(tax.categories.get(category, ())):
            raise ArtifactError(f"{where}: stage {category!r} does not narrow root_cause to that category's "
                                "labels in datasets/taxonomy.yaml; re-export it")
        _check_labels({k: v for k, v in labels.items() if k != "root_cause"}, tax, where=f"{where}, stage {category}")
    return artifact


def _check_messages(messages: Sequence[Message], *, where: str) -> None:
    count = sum(m.content.count(PLACEHOLDER) for m in messages)
    if count != 1:
        raise ArtifactError(f"{where}: the messages hold the {PLACEHOLDER} placeholder {count} times, not once")


def _check_labels(labels: dict[str, tuple[str, ...]], tax: Taxonomy, *, where: str) -> None:
    for name, have in labels.items():
        want = getattr(tax, LABEL_FIELDS[name])
        if set(have) != set(want):
            diff = sorted(set(have) ^ set(want))
            raise ArtifactError(f"{where}: schema labels of {name!r} differ from datasets/taxonomy.yaml "
                                f"({', '.join(diff[:6])}); re-export it from a run on the current taxonomy")


def artifact_path(ref: str | Path, prompts_dir: Path) -> Path:
    """The file for a prompt name (artifacts/prompts/NAME.json) or a path to one."""
    candidate = Path(ref)
    if candidate.suffix == ".json" and candidate.is_file():
        return candidate
    if not re.match(NAME_PATTERN, str(ref)) or str(ref) == "production":
        raise ArtifactError(f"invalid prompt name {str(ref)!r}: letters, digits, '.', '_' and '-' only")
    return prompts_dir / f"{ref}.json"


def load_artifact(ref: str | Path, prompts_dir: Path) -> PromptArtifact:
    """Read and check a prompt artifact by name or path; one clear ArtifactError for each way it can be unusable."""
    path = artifact_path(ref, prompts_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(a.stem for a in list_artifact_paths(prompts_dir)) or "none yet"
        raise ArtifactError(f"no prompt artifact {str(ref)!r} in {prompts_dir} (known: {known}); "
                            "create one with `logeval export RUN_ID --name NAME`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format_version") != ARTIFACT_FORMAT_VERSION:
        found = raw.get("format_version") if isinstance(raw, dict) else None
        raise ArtifactError(f"{path} has format_version {found!r}, this analyzer reads {ARTIFACT_FORMAT_VERSION}; "
                            "re-export it with this version of logeval")
    try:
        artifact = PromptArtifact.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ArtifactError(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    return check_artifact(artifact, where=str(path))


def list_artifact_paths(prompts_dir: Path) -> list[Path]:
    """Every artifact file in PROMPTS_DIR (not the production pointer), sorted by name."""
    if not prompts_dir.is_dir():
        return []
    return sorted(p for p in prompts_dir.glob("*.json") if p.name != PRODUCTION_POINTER and not p.name.startswith("."))


def next_version(name: str, prompts_dir: Path, *, force: bool) -> int:
    """1 for a new NAME; previous version + 1 when FORCE replaces it; ArtifactError otherwise."""
    path = artifact_path(name, prompts_dir)
    if not path.exists():
        return 1
    if not force:
        raise ArtifactError(f"{path} already exists; pick another --name or pass --force to replace it "
                            "(its version is then incremented)")
    try:
        return int(json.loads(path.read_text(encoding="utf-8")).get("version", 0)) + 1
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
        return 1


def save_artifact(artifact: PromptArtifact, prompts_dir: Path) -> Path:
    """Write the artifact to PROMPTS_DIR/<name>.json atomically and return its path."""
    prompts_dir.mkdir(parents=True, exist_ok=True)
    path = prompts_dir / f"{artifact.name}.json"
    data = artifact.model_dump(mode="json")
    # Only the provenance (configs, endpoints): messages and demos are the prompt and must stay byte for byte.
    write_json_atomic(path, data | {"provenance": redact_json(data["provenance"])})
    return path


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
