"""Compiled programs on disk: DSPy's own state-only JSON plus a manifest saying how to rebuild the module."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dspy

from dspy_logeval.core.errors import ArtifactError, LogevalError
from dspy_logeval.core.paths import manifest_path as manifest_path  # where it was defined before core/paths.py
from dspy_logeval.core.redact import redact_json
from programs import program_class
from signatures import load_signature

COMPILED_FORMAT_VERSION = 1


def save_compiled(program: dspy.Module, path: Path, manifest: dict[str, Any]) -> Path:
    """Write PATH (dspy's save) and its manifest atomically: an interrupted save leaves nothing behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_program = path.with_name(f".{path.name}.{os.getpid()}.tmp.json")
    tmp_manifest = path.with_name(f".{path.stem}.{os.getpid()}.manifest.tmp")
    try:
        program.save(str(tmp_program))
        manifest_text = json.dumps(redact_json({"format_version": COMPILED_FORMAT_VERSION, **manifest}), indent=2,
                                   default=str)
        tmp_manifest.write_text(manifest_text)
        os.replace(tmp_manifest, manifest_path(path))
        os.replace(tmp_program, path)
    finally:
        tmp_program.unlink(missing_ok=True)
        tmp_manifest.unlink(missing_ok=True)
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    mpath = manifest_path(path)
    if not path.is_file():
        raise ArtifactError(f"compiled program not found: {path}")
    try:
        manifest: dict[str, Any] = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path} has no manifest ({mpath.name}): save compiled programs with logeval optimize"
                            ) from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{mpath} is not valid JSON: {exc}") from None
    if manifest.get("format_version") != COMPILED_FORMAT_VERSION:
        raise ArtifactError(f"{mpath} has format_version {manifest.get('format_version')!r}; this logeval reads "
                            f"{COMPILED_FORMAT_VERSION}")
    return manifest


def load_compiled(path: Path) -> tuple[dspy.Module, dict[str, Any]]:
    """The compiled module (program class + template from the manifest, then dspy's load) and its manifest."""
    manifest = read_manifest(path)
    try:
        signature = load_signature(manifest["template"], system_prompt=manifest.get("system_prompt"))
        program = program_class(manifest["program"])(signature)
        program.load(str(path))
        if hasattr(program, "k"):  # knn: how many neighbours is configuration, not predictor state
            program.k = manifest.get("config", {}).get("fewshot_k", program.k)
    except LogevalError:
        raise
    except (KeyError, ValueError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path} cannot be loaded into program {manifest.get('program')!r}: {exc}") from None
    return program, manifest
