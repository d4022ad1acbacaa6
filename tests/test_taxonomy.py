"""datasets/taxonomy.yaml: the label sets, their lookups, and their match with the shared taxonomy."""

from __future__ import annotations

import pytest

from dspy_logeval.core.paths import PROJECT_ROOT
from dspy_logeval.data.taxonomy import TAXONOMY_PATH, Taxonomy, load_taxonomy

SHARED_TAXONOMY = PROJECT_ROOT.parent / "shared" / "taxonomy.yaml"


def _labels(tax: Taxonomy) -> dict[str, object]:
    return {"severities": set(tax.severities), "actions": set(tax.actions),
            "categories": {name: set(causes) for name, causes in tax.categories.items()}}


def test_load_taxonomy_returns_typed_label_sets() -> None:
    tax = load_taxonomy()
    assert isinstance(tax, Taxonomy)
    assert tax.severities == ("info", "warn", "error", "critical")
    assert "increase_resources" in tax.actions
    assert all(isinstance(causes, tuple) for causes in tax.categories.values())
    assert "container_oom_killed" in tax.root_causes


def test_root_causes_are_unique_and_map_back_to_their_category() -> None:
    tax = load_taxonomy()
    assert len(tax.root_causes) == len(set(tax.root_causes))
    for category, causes in tax.categories.items():
        assert all(tax.category_of(cause) == category for cause in causes)
    assert tax.category_of("not_a_label") is None


def test_taxonomy_is_read_once_per_process() -> None:
    assert load_taxonomy() is load_taxonomy()
    assert load_taxonomy(TAXONOMY_PATH) == load_taxonomy()


def test_project_taxonomy_holds_exactly_the_shared_labels() -> None:
    if not SHARED_TAXONOMY.is_file():
        pytest.skip(f"{SHARED_TAXONOMY} is absent outside the workplace checkout")
    assert _labels(load_taxonomy()) == _labels(load_taxonomy(SHARED_TAXONOMY))
