"""TF-IDF retrieval over rendered logs: the knn program's demo picker and the nearest-neighbour floor share it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel


def message_text(logs: str) -> str:
    """The message part of each rendered line: timestamps and pod hashes would only add noise to similarity."""
    return "\n".join(line.split(": ", 1)[-1] for line in logs.splitlines())


class TfidfIndex:
    """Rendered logs indexed by TF-IDF over word uni- and bigrams of their messages."""

    def __init__(self, logs: Sequence[str]) -> None:
        self.size = len(logs)
        self._vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                           token_pattern=r"[A-Za-z][A-Za-z_]+")
        self._matrix: Any = self._vectorizer.fit_transform([message_text(text) for text in logs]) if logs else None

    def nearest(self, logs: str, k: int, *, exclude: int | None = None) -> list[int]:
        """Indices of the K entries most similar to LOGS, most similar first (ties: the lower index first);
        EXCLUDE leaves one entry out (the query itself, for a leave-one-out neighbour)."""
        if self._matrix is None:
            return []
        scores = linear_kernel(self._vectorizer.transform([message_text(logs)]), self._matrix)[0]
        order = sorted((i for i in range(self.size) if i != exclude), key=lambda i: (-scores[i], i))
        return order[:k]
