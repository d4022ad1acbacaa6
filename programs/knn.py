"""knn: few-shot with the k train examples most similar to the input logs as demos (TF-IDF retrieval).

A tiny model copies labels from its demos; showing it the most similar past incidents turns that weakness into
a nearest-neighbour diagnosis. The retrieval pool lives in a second predictor's demos, so DSPy's own
save()/load() keep it and a reloaded program picks the same demos.
"""

from __future__ import annotations

from typing import Any

import dspy

from dspy_logeval.data.retrieval import TfidfIndex
from signatures import LogAnalysis


class KNN(dspy.Module):
    """Predict with the K most similar examples of the pool (nearest last, closest to the question)."""

    def __init__(self, signature: type[dspy.Signature] = LogAnalysis, *, k: int = 3) -> None:
        super().__init__()
        self.analyze = dspy.Predict(signature)
        self.pool = dspy.Predict(signature)  # never called: its demos are the retrieval pool
        self.k = k
        self._index: tuple[tuple[int, int], TfidfIndex] | None = None

    def with_pool(self, trainset: list[dspy.Example], *, k: int) -> KNN:
        """A copy that retrieves K demos from TRAINSET."""
        program = self.deepcopy()
        program.pool.demos = list(trainset)
        program.k = k
        return program  # type: ignore[no-any-return]  # dspy.Module.deepcopy is untyped

    def _fitted(self) -> TfidfIndex:
        key = (id(self.pool.demos), len(self.pool.demos))
        if self._index is None or self._index[0] != key:
            self._index = (key, TfidfIndex([d["logs"] for d in self.pool.demos]))
        return self._index[1]

    def nearest(self, logs: str) -> list[Any]:
        """The K pool examples most similar to LOGS, least similar first (ties keep pool order)."""
        order = self._fitted().nearest(logs, self.k)
        return [self.pool.demos[i] for i in reversed(order)]

    def forward(self, logs: str) -> dspy.Prediction:
        return self.analyze(logs=logs, demos=self.nearest(logs))
