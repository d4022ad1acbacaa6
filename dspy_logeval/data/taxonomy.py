"""The label taxonomy (datasets/taxonomy.yaml) as Python types and lookups."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dspy_logeval.core.paths import PROJECT_ROOT

TAXONOMY_PATH = PROJECT_ROOT / "datasets" / "taxonomy.yaml"


@dataclass(frozen=True)
class Taxonomy:
    """Closed label sets for severities, actions and root causes (grouped by category)."""

    severities: tuple[str, ...]
    actions: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]

    @property
    def root_causes(self) -> tuple[str, ...]:
        return tuple(rc for causes in self.categories.values() for rc in causes)

    def category_of(self, root_cause: str) -> str | None:
        """The category containing ROOT_CAUSE, or None when it is not a taxonomy label."""
        for category, causes in self.categories.items():
            if root_cause in causes:
                return category
        return None


def _parse(raw: dict[str, Any]) -> Taxonomy:
    return Taxonomy(
        severities=tuple(raw["severities"]),
        actions=tuple(raw["actions"]),
        categories={name: tuple(causes) for name, causes in raw["categories"].items()},
    )


@lru_cache(maxsize=4)
def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    """Read the taxonomy YAML once per process."""
    return _parse(yaml.safe_load(path.read_text(encoding="utf-8")))
