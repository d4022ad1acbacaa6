"""predict: one dspy.Predict call fills every LogAnalysis field."""

from __future__ import annotations

import dspy

from signatures import LogAnalysis


class Predict(dspy.Module):
    """Answer the LogAnalysis fields directly."""

    def __init__(self, signature: type[dspy.Signature] = LogAnalysis) -> None:
        super().__init__()
        self.analyze = dspy.Predict(signature)

    def forward(self, logs: str) -> dspy.Prediction:
        return self.analyze(logs=logs)
