"""The only place a Sample becomes a dspy.Example."""

from __future__ import annotations

import dspy

from dspy_logeval.data.dataset import Sample, render_logs

LABEL_FIELDS = ("root_cause", "severity", "component", "summary", "action_needed")


def to_example(sample: Sample) -> dspy.Example:
    """A dspy.Example with `logs` as the input and the five ground-truth labels as outputs."""
    return dspy.Example(logs=render_logs(sample.logs), **sample.ground_truth.model_dump(),
                        sample_id=sample.id, category=sample.category).with_inputs("logs")


def to_examples(samples: list[Sample]) -> list[dspy.Example]:
    return [to_example(s) for s in samples]
