"""No-LLM floors: what a run's samples would score without any model, so a number can say what the LLM added.

Three references, each fitted on a pool of labeled samples that excludes the scored one:

* ``majority``: the most common label of each field in the pool;
* ``nearest``: every label (and the summary) copied from the most similar pool sample, TF-IDF k=1 — what the
  knn program's demos would hand a model that only copies;
* ``rules``: the keyword/pattern labeller of ``logeval dataset label`` (data/label_rules.py), the same code.

The pool is the dataset's train split; for a dataset without splits, the samples outside the scored set; a
scored sample that is in the pool itself is left out of its own neighbours (leave-one-out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dspy_logeval.data.dataset import Dataset, Sample, render_logs
from dspy_logeval.data.label_rules import propose_labels
from dspy_logeval.data.retrieval import TfidfIndex

FLOOR_NAMES = ("majority", "nearest", "rules")
FLOOR_DESCRIPTIONS = {
    "majority": "always answering the most common train label",
    "nearest": "copying the nearest train sample's labels (TF-IDF, k=1)",
    "rules": "the keyword/pattern rules of `logeval dataset label`",
}
LABELS = ("root_cause", "severity", "component", "summary", "action_needed")


@dataclass(frozen=True)
class FloorModel:
    """The three floors, fitted on a pool."""

    pool: list[Sample]
    majority: dict[str, str]
    index: TfidfIndex

    def predict(self, sample: Sample) -> dict[str, dict[str, str]]:
        """Each floor's labels for SAMPLE: {floor name: {root_cause, severity, component, summary, action_needed}}."""
        logs = render_logs(sample.logs)
        own = next((i for i, s in enumerate(self.pool) if s.id == sample.id), None)
        near = self.index.nearest(logs, 1, exclude=own)
        nearest = self.pool[near[0]].ground_truth.model_dump() if near else dict(self.majority)
        rules = propose_labels(logs)
        return {"majority": dict(self.majority), "nearest": {k: str(nearest[k]) for k in LABELS},
                "rules": {k: str(getattr(rules, k)) for k in LABELS}}


def floor_pool(dataset: Dataset, scored: Sequence[Sample]) -> list[Sample]:
    """The labeled samples the floors learn from: the train split, or what the run does not score."""
    train = [s for s in dataset.samples if s.split == "train"]
    if train:
        return train
    scored_ids = {s.id for s in scored}
    return [s for s in dataset.samples if s.id not in scored_ids] or list(dataset.samples)


def fit_floors(pool: Sequence[Sample]) -> FloorModel | None:
    """The floors fitted on POOL (None for an empty pool: nothing to learn a floor from)."""
    if not pool:
        return None
    ordered = sorted(pool, key=lambda s: s.id)
    majority = {field: _most_common([str(getattr(s.ground_truth, field)) for s in ordered]) for field in LABELS}
    majority["summary"] = ""  # no summary is "typical": a constant one would only score by accident
    return FloorModel(ordered, majority, TfidfIndex([render_logs(s.logs) for s in ordered]))


def _most_common(values: Sequence[str]) -> str:
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], v))  # ties: alphabetical, so the floor is reproducible
