"""synthesize: templated rare failures, labeled, realistic, seeded, single-source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.checks import check_samples
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.data.synthesize import select_templates, synthesize_samples, synthesize_to_file
from dspy_logeval.data.synthetic_templates import TEMPLATES
from dspy_logeval.data.taxonomy import load_taxonomy


def test_at_least_twelve_templates_with_taxonomy_labels() -> None:
    tax = load_taxonomy()
    assert len(TEMPLATES) >= 12 and len({t.id for t in TEMPLATES}) == len(TEMPLATES)
    for t in TEMPLATES:
        assert t.root_cause in tax.root_causes and t.severity in tax.severities and t.action in tax.actions
        assert 1 <= len(t.lines) <= 6


def test_every_template_gives_valid_single_source_samples(tmp_path: Path) -> None:
    samples = synthesize_samples(TEMPLATES, n=len(TEMPLATES) * 3, seed=11)
    assert check_samples(samples, path=tmp_path / "x.json") == []
    for sample in samples:
        assert sample["source"] == "synthetic" and sample["provenance"]["template"]
        assert len({(line["pod"], line["node"]) for line in sample["logs"]}) == 1
        stamps = [line["timestamp"] for line in sample["logs"]]
        assert stamps == sorted(stamps)
    assert {s["provenance"]["template"] for s in samples} == {t.id for t in TEMPLATES}


def test_same_seed_same_file_other_seed_other_values(tmp_path: Path) -> None:
    a = synthesize_to_file(["nxdomain", "llm_oom"], n=6, seed=3, out=tmp_path / "a.json")
    b = synthesize_to_file(["nxdomain", "llm_oom"], n=6, seed=3, out=tmp_path / "b.json")
    c = synthesize_samples(select_templates(["nxdomain", "llm_oom"]), n=6, seed=4)
    assert a == b and a != c
    assert {s["ground_truth"]["root_cause"] for s in a} == {"nxdomain", "llm_oom"}
    assert len(load_dataset(str(tmp_path / "a.json")).samples) == 6
    assert json.loads((tmp_path / "a.json").read_text())[0]["id"].startswith("syn-")


@pytest.mark.parametrize(("causes", "expected"), [
    (["bogus"], "'bogus' is not in taxonomy.yaml"),
    (["normal_operation"], "no template for normal_operation; templates cover:"),
])
def test_unknown_or_uncovered_root_causes(causes: list[str], expected: str) -> None:
    with pytest.raises(DatasetError, match=expected):
        select_templates(causes)
