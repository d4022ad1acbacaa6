"""Run folders: artifacts/runs/<YYYYmmdd-HHMMSS>-<experiment_id>/ with config.json, results.jsonl, metrics.json.

A run folder is the only thing reports, comparisons and the leaderboard read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dspy_logeval.core.errors import RunError
from dspy_logeval.core.files import write_json_atomic
from dspy_logeval.core.redact import redact_json, redact_optional
from dspy_logeval.runs.prompt_store import PromptStore
from dspy_logeval.runs.record import RUN_FORMAT_VERSION, RunRecord, RunState, SampleRecord


@dataclass
class RunFolder:
    """One evaluation run on disk."""

    path: Path
    _prompts: PromptStore | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def prompt_store(self) -> PromptStore:
        """The run's prompts.jsonl (messages each record's prompt_hash points at)."""
        if self._prompts is None:
            self._prompts = PromptStore(self.path)
        return self._prompts

    @property
    def run_id(self) -> str:
        return self.path.name

    @classmethod
    def create(cls, runs_dir: Path, experiment_id: str, fields: dict[str, Any]) -> RunFolder:
        """Make a new, uniquely named run folder and freeze its config.json (FIELDS: RunRecord's, less run_id)."""
        runs_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = runs_dir / f"{stamp}-{experiment_id}"
        suffix = 1
        while path.exists():
            suffix += 1
            path = runs_dir / f"{stamp}-{experiment_id}-{suffix}"
        record = RunRecord.model_validate({"run_id": path.name, "created": datetime.now(timezone.utc).isoformat(),
                                           **fields})
        path.mkdir()
        # The redacted endpoint still validates as a URL, so the frozen config loads; credentials never land here.
        write_json_atomic(path / "config.json", redact_json(record.to_json()))
        (path / "results.jsonl").touch()  # a run interrupted before its first sample is still resumable
        return cls(path)

    def append(self, record: SampleRecord) -> None:
        """Append one sample's record to results.jsonl and flush it to disk at once; its prompt messages go to
        prompts.jsonl (once per run), the record keeps their hash."""
        if record.prompt_messages is not None:
            self.prompt_store.add(record.prompt_messages)
        self._append_line("results.jsonl", record)

    def record_failure(self, record: SampleRecord) -> None:
        """Keep a sample the LM side failed (never scored) in failures.jsonl, out of results and metrics."""
        self._append_line("failures.jsonl", record)

    def _append_line(self, name: str, record: SampleRecord) -> None:
        record = record.model_copy(update={"error": redact_optional(record.error)})  # an error may quote a URL
        try:
            with (self.path / name).open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record.to_json(), default=str) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise RunError(f"cannot write {self.path / name}: {exc.strerror or exc}; the records written so far "
                           "are kept") from None

    def repair_tail(self) -> int:
        """Cut a half-written last line off results.jsonl (a crash or a full disk mid-write), so the next record
        is not glued to it; return how many bytes were dropped."""
        path = self.path / "results.jsonl"
        data = path.read_bytes() if path.is_file() else b""
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        with path.open("r+b") as fh:
            fh.truncate(keep)
        return len(data) - keep

    def state(self) -> RunState:
        """state.json: complete unless the run stopped or left LM-side failures (a run from before it: complete)."""
        path = self.path / "state.json"
        if not path.is_file():
            return RunState(status="complete")
        try:
            return RunState.model_validate(_read_json(path))
        except ValidationError as exc:
            raise RunError(f"{path} is not a run state: {_first_problem(exc)}") from None

    def write_state(self, state: RunState) -> None:
        write_json_atomic(self.path / "state.json", state.model_dump(mode="json"))

    def config(self) -> RunRecord:
        """config.json, typed."""
        path = self.path / "config.json"
        try:
            return RunRecord.model_validate(_read_json(path))
        except ValidationError as exc:
            raise RunError(f"{path} is not a run's config.json: {_first_problem(exc)}") from None

    def records(self) -> list[SampleRecord]:
        return read_records(self.path)[0]

    def metrics(self) -> dict[str, Any]:
        return _read_json(self.path / "metrics.json")

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json_atomic(self.path / "metrics.json", {"format_version": RUN_FORMAT_VERSION, **metrics})


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc']) or '<root>'}: {error['msg']}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path} is missing: not a complete run folder") from None
    except json.JSONDecodeError as exc:
        raise RunError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise RunError(f"{path} holds {type(data).__name__}, not a JSON object")
    return data


def read_records(run_dir: Path) -> tuple[list[SampleRecord], int]:
    """Read results.jsonl; return (complete records, number of unreadable lines, e.g. a truncated last one)."""
    path = run_dir / "results.jsonl"
    if not path.exists():
        raise RunError(f"{run_dir} has no results.jsonl: not a run folder")
    records: list[SampleRecord] = []
    lost = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            records.append(SampleRecord.model_validate_json(line))
        except ValidationError:
            lost += 1
    return records, lost


def resolve_run(ref: str | Path, runs_dir: Path) -> RunFolder:
    """A run folder from a path, a run id, or a unique prefix/suffix of a run id ('latest' = newest)."""
    candidate = Path(ref)
    if candidate.is_dir() and (candidate / "config.json").exists():
        return RunFolder(candidate)
    runs = list_runs(runs_dir)
    if str(ref) == "latest":
        if not runs:
            raise RunError(f"no runs in {runs_dir}: run `logeval evaluate` first")
        return runs[-1]
    matches = [r for r in runs if r.run_id == str(ref)] or [
        r for r in runs if r.run_id.startswith(str(ref)) or r.run_id.endswith(str(ref))]
    if not matches:
        raise RunError(f"no run {ref!r} in {runs_dir} (list them with `logeval leaderboard`)")
    if len(matches) > 1 and str(ref) not in {r.run_id for r in matches}:
        names = ", ".join(r.run_id for r in matches[:5])
        raise RunError(f"run {ref!r} is ambiguous: {names}; give the full run id")
    return matches[-1]


def list_runs(runs_dir: Path) -> list[RunFolder]:
    """All run folders with a config.json, oldest first."""
    if not runs_dir.is_dir():
        return []
    return [RunFolder(p) for p in sorted(runs_dir.iterdir()) if (p / "config.json").is_file()]
