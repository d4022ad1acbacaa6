"""What a run ran on: git commit, package versions, model checksum."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

from dspy_logeval.core.paths import PROJECT_ROOT

PACKAGES = ("dspy-logeval", "dspy", "litellm", "xllamacpp", "pydantic", "httpx", "scikit-learn", "rouge-score")


def git_commit(root: Path = PROJECT_ROOT) -> str | None:
    """HEAD of the checkout (with '-dirty' when there are uncommitted changes), or None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
