"""cot: reason step by step, then fill the LogAnalysis fields."""

from __future__ import annotations

import dspy

from signatures import LogAnalysis


class CoT(dspy.Module):
    """Chain of thought over the logs before the labels."""

    def __init__(self, signature: type[dspy.Signature] = LogAnalysis) -> None:
        super().__init__()
        self.analyze = dspy.ChainOfThought(signature)

    def forward(self, logs: str) -> dspy.Prediction:
        return self.analyze(logs=logs)
