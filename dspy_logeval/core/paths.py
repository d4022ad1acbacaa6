"""Where the project's files live: the checkout root, artifacts, the user cache."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATASETS_DIR = PROJECT_ROOT / "datasets"
CONFIGS_DIR = PROJECT_ROOT / "configs"
ARTIFACTS_DIR = Path(os.environ.get("LOGEVAL_ARTIFACTS", PROJECT_ROOT / "artifacts"))
RUNS_DIR = ARTIFACTS_DIR / "runs"
COMPILED_DIR = ARTIFACTS_DIR / "compiled"
PROMPTS_DIR = ARTIFACTS_DIR / "prompts"
LEADERBOARD_PATH = ARTIFACTS_DIR / "leaderboard.json"


def cache_dir() -> Path:
    """The user's cache folder for models (XDG_CACHE_HOME respected)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dspy-logeval"


def manifest_path(program_path: Path) -> Path:
    """The manifest saved beside a compiled program (artifacts/compiled/<id>.json → <id>.manifest.json)."""
    return program_path.with_name(program_path.stem + ".manifest.json")
