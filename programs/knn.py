"""knn: few-shot with the k train examples most similar to the input logs as demos (TF-IDF retrieval).

A tiny model copies labels from its demos; showing it the most similar past incidents turns that weakness into
a nearest-neighbour diagnosis. The retrieval pool lives in a second predictor's demos, so DSPy's own
save()/load() keep it and a reloaded program picks the same demos.
"""

from __future__ import annotations

from typing import Any

import dspy
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from signatures import LogAnalysis


def _messages(logs: str) -> str:
    """The message part of each rendered line: timestamps and pod hashes would only add noise to similarity."""
    return "\n".join(line.split(": ", 1)[-1] for line in logs.splitlines())


class KNN(dspy.Module):
    """Predict with the K most similar examples of the pool (nearest last, closest to the question)."""

    def __init__(self, signature: type[dspy.Signature] = LogAnalysis, *, k: int = 3) -> None:
        super().__init__()
        self.analyze = dspy.Predict(signature)
        self.pool = dspy.Predict(signature)  # never called: its demos are the retrieval pool
        self.k = k
        self._index: tuple[tuple[int, int], TfidfVectorizer, Any] | None = None

    def with_pool(self, trainset: list[dspy.Example], *, k: int) -> KNN:
        """A copy that retrieves K demos from TRAINSET."""
        program = self.deepcopy()
        program.pool.demos = list(trainset)
        program.k = k
        return program  # type: ignore[no-any-return]  # dspy.Module.deepcopy is untyped

    def _fitted(self) -> tuple[TfidfVectorizer, Any]:
        key = (id(self.pool.demos), len(self.pool.demos))
        if self._index is None or self._index[0] != key:
            vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                         token_pattern=r"[A-Za-z][A-Za-z_]+")
            matrix = vectorizer.fit_transform([_messages(d["logs"]) for d in self.pool.demos])
            self._index = (key, vectorizer, matrix)
        return self._index[1], self._index[2]

    def nearest(self, logs: str) -> list[Any]:
        """The K pool examples most similar to LOGS, least similar first (ties keep pool order)."""
        if not self.pool.demos:
            return []
        vectorizer, matrix = self._fitted()
        scores = linear_kernel(vectorizer.transform([_messages(logs)]), matrix)[0]
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[: self.k]
        return [self.pool.demos[i] for i in reversed(order)]

    def forward(self, logs: str) -> dspy.Prediction:
        return self.analyze(logs=logs, demos=self.nearest(logs))
