"""The two_stage program's signatures: first the category, then LogAnalysis with root_cause narrowed to it.

A small model picks among 11 categories far more reliably than among 48 root causes; the second request's JSON
schema (and the field type in its system message) only admits the chosen category's root causes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import dspy

from dspy_logeval.data.taxonomy import load_taxonomy
from signatures.log_analysis import LOGS_DESC

_TAX = load_taxonomy()
Category = Literal[tuple(_TAX.categories)]  # type: ignore[valid-type]  # labels from taxonomy.yaml at import


class Categorize(dspy.Signature):
    """Name the part of a Kubernetes cluster these pod logs show failing (healthy when nothing failed)."""

    logs: str = dspy.InputField(desc=LOGS_DESC)
    category: Category = dspy.OutputField(desc="the taxonomy category of the incident")  # type: ignore[valid-type]


@lru_cache(maxsize=256)
def narrowed(signature: type[dspy.Signature], category: str) -> type[dspy.Signature]:
    """SIGNATURE with root_cause limited to CATEGORY's root causes (the taxonomy's order); same class per pair."""
    causes = _TAX.categories.get(category) or _TAX.root_causes
    return signature.with_updated_fields("root_cause", type_=Literal[tuple(causes)])  # type: ignore[no-any-return]
