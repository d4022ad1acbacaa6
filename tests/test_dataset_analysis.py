"""dataset_analysis.py: distributions, log shape, completeness and coverage recommendations."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from dspy_logeval.data.analysis import NAMESPACE_TARGETS, analyze_samples
from dspy_logeval.data.dataset import Sample, load_dataset
from dspy_logeval.data.taxonomy import load_taxonomy

MINI = Path(__file__).parent / "fixtures" / "mini-golden"


def _sample(i: int, *, root_cause: str, severity: str, namespace: str, lines: int,
            source: str = "synthetic") -> Sample:
    tax = load_taxonomy()
    logs = [{"timestamp": f"2025-01-01T00:00:{n:02d}Z", "namespace": namespace, "pod": f"p{i}",
             "container": "c", "node": "n1", "message": f"sample {i} line {n}"} for n in range(lines)]
    raw: dict[str, Any] = {
        "id": f"s{i:03d}", "category": tax.category_of(root_cause), "severity": severity,
        "namespace": namespace, "logs": logs, "source": source, "split": "train",
        "ground_truth": {"root_cause": root_cause, "severity": severity, "component": f"{namespace}/c",
                         "summary": "s", "action_needed": "investigate"}}
    return Sample.model_validate(raw)


def _balanced_set() -> list[Sample]:
    """150 samples that meet every coverage target."""
    namespaces = [ns for ns, (low, high) in NAMESPACE_TARGETS.items() for _ in range((low + high) // 2)]
    namespaces += ["monitoring"] * (150 - len(namespaces))
    severities = ["info"] * 37 + ["warn"] * 38 + ["error"] * 60 + ["critical"] * 15
    causes = itertools.cycle(load_taxonomy().root_causes)
    return [_sample(i, root_cause=next(causes), severity=severities[i], namespace=namespaces[i],
                    lines=1 + i % 2) for i in range(150)]


def test_analysis_of_the_mini_set() -> None:
    analysis = analyze_samples(load_dataset(str(MINI)).samples)
    assert analysis["sample_count"] == 5
    assert analysis["splits"] == {"train": 2, "dev": 1, "test": 2}
    assert analysis["action_distribution"]["fix_config"] == 2
    assert analysis["lines_per_sample"] == {"min": 1, "mean": 2.0, "max": 3, "multi_line_share": 0.8,
                                         "single_source_share": 1.0}
    assert analysis["labeling_completeness"]["ground_truth.summary"] == {"filled": 5, "of": 5}
    recs = " | ".join(analysis["recommendations"])
    assert "add 145 samples" in recs and "categories with no sample: network" in recs
    assert "namespace kube-system: 1 samples, target 30-40: add 29" in recs


def test_a_balanced_set_meets_every_target() -> None:
    assert analyze_samples(_balanced_set())["recommendations"] == []


def test_each_missed_target_gets_a_recommendation() -> None:
    samples = [s.model_copy(update={"logs": s.logs[:1]}) for s in _balanced_set()]
    cycle = len(load_taxonomy().root_causes)
    for i in (0, cycle, 2 * cycle):   # leave container_oom_killed a single sample (at 3 * cycle)
        samples[i] = _sample(i, root_cause="normal_operation", severity=samples[i].severity,
                             namespace=samples[i].namespace, lines=1,
                             source="real" if i == 0 else "synthetic")
    recs = analyze_samples(samples)["recommendations"]
    assert recs == ["root causes with fewer than 2 samples: container_oom_killed",
                    "multi-line samples: 0%, target >= 30%: add context lines",
                    "1 real samples have no provenance.url"]


def test_golden_v2_split_teaches_every_test_root_cause() -> None:
    analysis = analyze_samples(load_dataset("golden-v2").samples)
    rows = analysis["split_by_root_cause"]
    in_test = {cause for cause, row in rows.items() if row["test"]}
    assert len(in_test) >= 40 and all(rows[cause]["train"] >= 2 for cause in in_test)
    assert analysis["lines_per_sample"]["single_source_share"] > 0.5
    assert not any("train examples" in rec for rec in analysis["recommendations"])


def test_a_test_root_cause_without_train_examples_is_flagged() -> None:
    samples = load_dataset(str(MINI)).samples
    lonely = [s.model_copy(update={"split": "test"}) for s in samples]
    recs = " | ".join(analyze_samples(lonely)["recommendations"])
    assert "root causes in test with fewer than 2 train examples" in recs
