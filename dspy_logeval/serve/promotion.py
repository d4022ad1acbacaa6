"""Promotion: which prompt artifact serves production (artifacts/prompts/production.json), and the list of them."""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dspy_logeval.core.errors import ArtifactError
from dspy_logeval.core.files import write_json_atomic
from dspy_logeval.serve.prompt_artifact import (
    PRODUCTION_POINTER,
    PromptArtifact,
    list_artifact_paths,
    load_artifact,
    now_iso,
)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def promote(name: str, prompts_dir: Path, *, check: str | None = None, forced: bool = False,
            reason: str | None = None) -> dict[str, Any]:
    """Point production at artifact NAME (checked first) and return the pointer written.

    Each promotion is appended to the pointer's `history` (who, when, what it replaced, the pre-promotion
    CHECK's outcome, and whether it was FORCED past a refusal with REASON), so the audit trail stays in one file.
    """
    artifact = load_artifact(name, prompts_dir)
    previous = production_pointer(prompts_dir) or {}
    entry = {"name": artifact.name, "version": artifact.version, "source_run": artifact.source_run,
             "promoted_by": _user(), "promoted_at": now_iso(), "replaced": _ref(previous), "check": check,
             "forced": forced, "reason": reason}
    pointer = {"format_version": 1, **{k: entry[k] for k in ("name", "version", "source_run", "promoted_by",
                                                             "promoted_at")},
               "history": [*_history(previous), entry]}
    write_json_atomic(prompts_dir / PRODUCTION_POINTER, pointer)
    return pointer


def _history(pointer: dict[str, Any]) -> list[dict[str, Any]]:
    # a pointer written before histories were kept becomes the history's first entry
    if not pointer or "history" in pointer:
        return list(pointer.get("history", []))
    return [{k: v for k, v in pointer.items() if k != "format_version"}]


def _ref(pointer: dict[str, Any]) -> str | None:
    return f"{pointer['name']} v{pointer.get('version')}" if pointer else None


def production_provenance(prompts_dir: Path) -> dict[str, Any]:
    """What production's prompt records about how it scored: name, version, source_run, dataset, test_metrics.

    Raises:
        ArtifactError: nothing promoted, or the promoted artifact changed since.
    """
    artifact = production_artifact(prompts_dir)
    return {"name": artifact.name, "version": artifact.version, "source_run": artifact.source_run,
            "dataset": dict(artifact.provenance.get("dataset") or {}),
            "test_metrics": dict(artifact.provenance.get("test_metrics") or {})}


def production_pointer(prompts_dir: Path) -> dict[str, Any] | None:
    """The production pointer, or None when nothing was promoted yet."""
    path = prompts_dir / PRODUCTION_POINTER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}; promote a prompt again with `logeval promote`") \
            from None
    if not isinstance(data, dict) or "name" not in data:
        raise ArtifactError(f"{path} does not name a prompt; promote one again with `logeval promote NAME`")
    return data


def production_artifact(prompts_dir: Path) -> PromptArtifact:
    """The promoted artifact; ArtifactError when none is promoted or it changed since promotion."""
    pointer = production_pointer(prompts_dir)
    if pointer is None:
        raise ArtifactError(f"no prompt is promoted in {prompts_dir}: run `logeval promote NAME` "
                            "or pass --prompt NAME")
    artifact = load_artifact(str(pointer["name"]), prompts_dir)
    if artifact.version != pointer.get("version"):
        raise ArtifactError(f"production points at {artifact.name} v{pointer.get('version')}, but the file is now "
                            f"v{artifact.version}; promote it again to serve the new version")
    return artifact


@dataclass(frozen=True)
class PromptRow:
    """One line of `logeval prompts`."""

    name: str
    version: int | None
    source_run: str | None
    created: str
    test_metrics: dict[str, Any]
    production: bool
    problem: str | None = None


def list_prompts(prompts_dir: Path) -> list[PromptRow]:
    """Every artifact with its test metrics and whether it is in production; unusable ones say why."""
    pointer = production_pointer(prompts_dir) or {}
    rows = []
    for path in list_artifact_paths(prompts_dir):
        try:
            art = load_artifact(path, prompts_dir)
        except ArtifactError as exc:
            rows.append(PromptRow(path.stem, None, None, "", {}, False, problem=str(exc)))
            continue
        live = pointer.get("name") == art.name and pointer.get("version") == art.version
        rows.append(PromptRow(art.name, art.version, art.source_run, art.created,
                              dict(art.provenance.get("test_metrics") or {}), live))
    return rows
