"""two_stage: one request names the category, a second fills LogAnalysis with root_cause narrowed to that category.

Each stage is a dspy.Predict, so DSPy optimizers bootstrap demos for both, and `export` turns the pair into a
staged prompt artifact the production analyzer replays request for request.
"""

from __future__ import annotations

import dspy

from signatures import LogAnalysis
from signatures.two_stage import Categorize, narrowed


class TwoStage(dspy.Module):
    """Category first, then the analysis constrained to that category's root causes."""

    def __init__(self, signature: type[dspy.Signature] = LogAnalysis) -> None:
        super().__init__()
        self.categorize = dspy.Predict(Categorize)
        self.analyze = dspy.Predict(signature)

    def forward(self, logs: str) -> dspy.Prediction:
        category = self.categorize(logs=logs).category
        return self.analyze(logs=logs, signature=narrowed(self.analyze.signature, str(category)))
