"""`logeval dataset analyze`: label distributions, log shape, completeness and coverage recommendations.

Counts work on plain sample dicts, so ``validate`` can compare a metadata.json with samples that do not all
parse, and ``freeze`` records the very same numbers it will later be checked against.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from statistics import mean
from typing import Any

from dspy_logeval.data.dataset import Sample
from dspy_logeval.data.taxonomy import Taxonomy, load_taxonomy

__all__ = ["COVERAGE_MET", "analyze_samples", "metadata_counts", "recommendations"]

SPLITS = ("train", "dev", "test")
TARGET_SAMPLES = 150
NAMESPACE_TARGETS: dict[str, tuple[int, int]] = {
    "kube-system": (30, 40), "logging": (20, 30), "llm": (15, 20), "log-analyzer": (15, 20),
    "envoy-gateway-system": (10, 15), "flux-system": (10, 15), "kube-flannel": (5, 10),
}
SEVERITY_TARGETS: dict[str, float] = {"info": 0.25, "warn": 0.25, "error": 0.40, "critical": 0.10}
SEVERITY_TOLERANCE = 0.05
MIN_ROOT_CAUSES = 35
MIN_PER_ROOT_CAUSE = 2
MIN_TRAIN_PER_TEST = 2
MIN_MULTILINE_SHARE = 0.30
COVERAGE_MET = "all coverage targets met"


def _get(item: Mapping[str, Any], dotted: str) -> Any:
    value: Any = item
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _count(items: Sequence[Mapping[str, Any]], dotted: str, *, default: str = "(none)") -> dict[str, int]:
    counter = Counter(str(v) if (v := _get(item, dotted)) not in (None, "") else default for item in items)
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def metadata_counts(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The counts metadata.json records (and `validate` re-checks) for a list of sample dicts."""
    split_counts = _count(items, "split")
    return {
        "sample_count": len(items),
        "severity_distribution": _count(items, "severity"),
        "namespace_distribution": _count(items, "namespace"),
        "category_distribution": _count(items, "category"),
        "root_cause_distribution": _count(items, "ground_truth.root_cause"),
        "real_vs_synthetic": _count(items, "source", default="synthetic"),
        "splits": {name: split_counts.get(name, 0) for name in SPLITS}
        | {k: v for k, v in split_counts.items() if k not in SPLITS},
    }


def analyze_samples(samples: Sequence[Sample], *, taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    """Everything `analyze` shows, as one JSON-ready dict.

    Args:
        samples: parsed samples (e.g. ``load_dataset("golden-v1").samples``).
        taxonomy: label sets to measure coverage against; the project's taxonomy.yaml by default.

    Returns:
        The metadata counts plus ``action_distribution``, ``lines_per_sample``, ``labeling_completeness``
        and ``recommendations`` (empty when every coverage target is met).
    """
    items = [s.model_dump(mode="json") for s in samples]
    analysis = metadata_counts(items)
    analysis["action_distribution"] = _count(items, "ground_truth.action_needed")
    analysis["lines_per_sample"] = _line_stats(samples)
    analysis["labeling_completeness"] = _completeness(items)
    analysis["split_by_root_cause"] = split_by_root_cause(samples)
    analysis["recommendations"] = recommendations(analysis, taxonomy=taxonomy or load_taxonomy())
    return analysis


def _line_stats(samples: Sequence[Sample]) -> dict[str, float]:
    lengths = [len(s.logs) for s in samples] or [0]
    multi = sum(1 for n in lengths if n > 1)
    single = sum(1 for s in samples if len({(e.namespace, e.pod, e.container) for e in s.logs}) == 1)
    return {"min": min(lengths), "mean": round(float(mean(lengths)), 2), "max": max(lengths),
            "multi_line_share": round(multi / len(samples), 4) if samples else 0.0,
            "single_source_share": round(single / len(samples), 4) if samples else 0.0}


def split_by_root_cause(samples: Sequence[Sample]) -> dict[str, dict[str, int]]:
    """{root cause: {train, dev, test}} sample counts, root causes sorted ({} for a set without splits)."""
    if not any(s.split for s in samples):
        return {}
    table: dict[str, dict[str, int]] = {}
    for sample in samples:
        row = table.setdefault(sample.ground_truth.root_cause, dict.fromkeys(SPLITS, 0))
        if sample.split:
            row[sample.split] += 1
    return dict(sorted(table.items()))


def _completeness(items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """How many samples carry each label (ground truth, split, node) and how many real ones cite a source."""
    fields = ["ground_truth.root_cause", "ground_truth.severity", "ground_truth.component",
              "ground_truth.summary", "ground_truth.action_needed", "split"]
    table = {f: {"filled": sum(1 for i in items if _get(i, f) not in (None, "")), "of": len(items)}
             for f in fields}
    table["logs.node"] = {"filled": sum(1 for i in items if all(line.get("node") for line in i["logs"])),
                          "of": len(items)}
    real = [i for i in items if i.get("source") == "real"]
    table["provenance.url (real samples)"] = {
        "filled": sum(1 for i in real if _get(i, "provenance.url") or _get(i, "extraction_metadata.url")),
        "of": len(real)}
    return table


def recommendations(analysis: Mapping[str, Any], *, taxonomy: Taxonomy) -> list[str]:
    """One sentence per coverage target the set misses (targets: the constants at the top of this module)."""
    return (_size_recs(analysis) + _namespace_recs(analysis["namespace_distribution"])
            + _severity_recs(analysis["severity_distribution"], total=analysis["sample_count"])
            + _label_recs(analysis, taxonomy=taxonomy) + _shape_recs(analysis))


def _size_recs(analysis: Mapping[str, Any]) -> list[str]:
    missing = TARGET_SAMPLES - analysis["sample_count"]
    return [f"add {missing} samples to reach the target of {TARGET_SAMPLES}"] if missing > 0 else []


def namespace_targets(total: int) -> dict[str, tuple[int, int]]:
    """NAMESPACE_TARGETS (written for 150 samples) scaled to a set of TOTAL samples when it is larger."""
    scale = max(1.0, total / TARGET_SAMPLES)
    return {ns: (round(low * scale), round(high * scale)) for ns, (low, high) in NAMESPACE_TARGETS.items()}


def _namespace_recs(counts: Mapping[str, int]) -> list[str]:
    recs = []
    for namespace, (low, high) in namespace_targets(sum(counts.values())).items():
        n = counts.get(namespace, 0)
        if n < low:
            recs.append(f"namespace {namespace}: {n} samples, target {low}-{high}: add {low - n}")
        elif n > high:
            recs.append(f"namespace {namespace}: {n} samples, target {low}-{high}: {n - high} too many")
    return recs


def _severity_recs(counts: Mapping[str, int], *, total: int) -> list[str]:
    recs = []
    for severity, target in SEVERITY_TARGETS.items():
        share = counts.get(severity, 0) / total if total else 0.0
        if abs(share - target) > SEVERITY_TOLERANCE + 1e-9:
            low, high = round((target - SEVERITY_TOLERANCE) * 100), round((target + SEVERITY_TOLERANCE) * 100)
            verb = "add more" if share < target else "use fewer"
            recs.append(f"severity {severity}: {share:.1%} of samples, target {low}-{high}%: {verb} "
                        f"{severity} samples")
    return recs


def _label_recs(analysis: Mapping[str, Any], *, taxonomy: Taxonomy) -> list[str]:
    recs = []
    missing = [c for c in taxonomy.categories if c not in analysis["category_distribution"]]
    if missing:
        recs.append(f"categories with no sample: {', '.join(missing)}")
    causes = analysis["root_cause_distribution"]
    if len(causes) < MIN_ROOT_CAUSES:
        recs.append(f"{len(causes)} distinct root causes, target >= {MIN_ROOT_CAUSES}: add samples for "
                    f"{MIN_ROOT_CAUSES - len(causes)} more")
    thin = sorted(rc for rc, n in causes.items() if n < MIN_PER_ROOT_CAUSE)
    if thin:
        recs.append(f"root causes with fewer than {MIN_PER_ROOT_CAUSE} samples: {', '.join(thin)}")
    unlearnable = sorted(rc for rc, row in analysis.get("split_by_root_cause", {}).items()
                         if row["test"] and row["train"] < MIN_TRAIN_PER_TEST)
    if unlearnable:
        recs.append(f"root causes in test with fewer than {MIN_TRAIN_PER_TEST} train examples (no demo can teach "
                    f"them): {', '.join(unlearnable)}")
    return recs


def _shape_recs(analysis: Mapping[str, Any]) -> list[str]:
    recs = []
    share = analysis["lines_per_sample"]["multi_line_share"]
    if share < MIN_MULTILINE_SHARE:
        recs.append(f"multi-line samples: {share:.0%}, target >= {MIN_MULTILINE_SHARE:.0%}: "
                    "add context lines")
    real = analysis["labeling_completeness"]["provenance.url (real samples)"]
    if real["filled"] < real["of"]:
        recs.append(f"{real['of'] - real['filled']} real samples have no provenance.url")
    return recs
