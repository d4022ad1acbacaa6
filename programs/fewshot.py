"""fewshot: dspy.Predict with k labeled demos drawn (seeded) from the train split by LabeledFewShot."""

from __future__ import annotations

import random

import dspy

from programs.predict import Predict


class FewShot(Predict):
    """Predict with labeled demos; `with_demos` fills them from a trainset."""

    def with_demos(self, trainset: list[dspy.Example], *, k: int, seed: int) -> FewShot:
        """A copy whose predictor carries K demos chosen by LabeledFewShot (seeded shuffle)."""
        # LabeledFewShot's own sampling is fixed to Random(0); shuffle with our seed, then take the first K.
        shuffled = list(trainset)
        random.Random(seed).shuffle(shuffled)
        compiled: FewShot = dspy.LabeledFewShot(k=k).compile(self, trainset=shuffled, sample=False)
        return compiled
