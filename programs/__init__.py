"""DSPy programs by name; `--program NAME` resolves through PROGRAMS."""

from __future__ import annotations

from collections.abc import Callable

import dspy

from dspy_logeval.core.errors import ProgramNotFound
from programs.cot import CoT
from programs.fewshot import FewShot
from programs.knn import KNN
from programs.predict import Predict
from programs.two_stage import TwoStage

PROGRAMS: dict[str, Callable[..., dspy.Module]] = {"predict": Predict, "cot": CoT, "fewshot": FewShot, "knn": KNN,
                                                   "two_stage": TwoStage}


def program_class(name: str) -> Callable[..., dspy.Module]:
    """The program constructor for NAME; an unknown name lists the choices."""
    try:
        return PROGRAMS[name]
    except KeyError:
        raise ProgramNotFound(f"unknown program {name!r}; available: {', '.join(sorted(PROGRAMS))}") from None


__all__ = ["KNN", "PROGRAMS", "CoT", "FewShot", "Predict", "TwoStage", "program_class"]
