"""The typed run record: config.json (RunRecord) and one results.jsonl line (SampleRecord), with format versions.

Every reader of a run folder goes through these models, so a run folder written by an older version (no
`format_version` on its lines, no `analyzer` key) still loads, and a damaged one fails with one clear RunError.
Unknown keys are kept (extra="allow"): a newer writer's additions survive a round trip through an older reader.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dspy_logeval.core.config import ExperimentConfig

RUN_FORMAT_VERSION = 1
"""config.json and metrics.json of a run folder."""
RECORD_FORMAT_VERSION = 1
"""One results.jsonl line; lines written before it was recorded count as version 1."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class DatasetRef(_Record):
    """The exact samples a run scored."""

    version: str | None = None
    path: str | None = None
    sha256: str | None = None
    split: str | None = None
    limit: int | None = None


class Lineage(_Record):
    """Where the scored program came from: a compiled program file or a prompt artifact (None: the config's)."""

    compiled: str | None = None
    compiled_from: str | None = None
    optimizer: str | None = None
    prompt: dict[str, Any] | None = None


class RunRecord(_Record):
    """config.json: the frozen config and everything the run ran on."""

    format_version: int = RUN_FORMAT_VERSION
    run_id: str
    created: str | None = None
    config: ExperimentConfig
    analyzer: Literal["dspy", "production"] = "dspy"
    git_commit: str | None = None
    dataset: DatasetRef = Field(default_factory=DatasetRef)
    endpoint: str | None = None
    model_sha256: str | None = None
    schema_enforced: bool | None = None
    packages: dict[str, str | None] = Field(default_factory=dict)
    seed: int | None = None
    lineage: Lineage | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class SampleRecord(_Record):
    """One results.jsonl line: a sample, what the program answered, its scores and what it cost."""

    format_version: int = RECORD_FORMAT_VERSION
    sample_id: str
    category: str | None = None
    namespace: str | None = None
    severity: str | None = None
    source: str | None = None
    split: str | None = None
    logs: str = ""
    actual: dict[str, Any] = Field(default_factory=dict)
    predicted: dict[str, Any] | None = None
    predicted_root_cause: str | None = None
    is_correct: bool = False
    scores: dict[str, float] = Field(default_factory=dict)
    latency_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    error: str | None = None
    error_kind: str | None = None
    reasoning: str | None = None
    floors: dict[str, dict[str, str]] | None = None
    """What each no-LLM floor answered for this sample (data/floors.py); None in runs written before floors."""
    prompt_hash: str | None = None
    """sha256 of the messages sent for this sample (the last LM call); they are in the run's prompts.jsonl."""
    raw_completion: str | None = None
    """The LM's answer text as it came back, before parsing (cut at runs.prompt_store.RAW_COMPLETION_MAX)."""
    prompt_messages: list[dict[str, Any]] | None = Field(default=None, exclude=True)
    """The messages themselves, in memory only: RunFolder.append moves them to prompts.jsonl."""

    def to_json(self) -> dict[str, Any]:
        """The line as written: every field, extras included."""
        return self.model_dump(mode="json")


class RunState(_Record):
    """state.json: whether the run's results cover every sample it set out to score."""

    status: Literal["complete", "incomplete"]
    scored: int | None = None
    total: int | None = None
    failed: int = 0
    """Samples the LM side failed (kept in failures.jsonl, retried by --resume)."""
    reason: str | None = None
