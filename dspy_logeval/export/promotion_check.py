"""Promotion with a check: a prompt replaces production only when its source run is not significantly worse.

The test is compare's (paired bootstrap CI on composite, McNemar on root cause) between the two prompts' source
runs on the samples they share. A candidate or production prompt without a scored source run on the same
dataset cannot be shown not to be worse, so it is refused too. `--force --reason TEXT` overrides, and the reason
goes into the production pointer's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dspy_logeval.core.errors import PromotionRefused, RunError
from dspy_logeval.runs.compare import Comparison, check_comparable, compare_runs
from dspy_logeval.runs.folder import RunFolder, resolve_run
from dspy_logeval.serve.promotion import production_pointer, promote
from dspy_logeval.serve.prompt_artifact import load_artifact


@dataclass(frozen=True)
class PromotionCheck:
    """What the check found: a one-line outcome, the comparison when there was one, and why it refuses."""

    outcome: str
    comparison: Comparison | None = None
    refusal: str | None = None
    """None: the candidate may replace production."""


def _source_run(ref: str | None, runs_dir: Path) -> RunFolder | None:
    if not ref:
        return None
    try:
        run = resolve_run(ref, runs_dir)
    except RunError:
        return None
    return run if (run.path / "results.jsonl").is_file() else None


def check_promotion(name: str, *, prompts_dir: Path, runs_dir: Path) -> PromotionCheck:
    """Whether prompt NAME may replace the production prompt (see the module docstring)."""
    candidate = load_artifact(name, prompts_dir)
    pointer = production_pointer(prompts_dir)
    if pointer is None:
        return PromotionCheck("nothing in production yet: no comparison needed")
    current = f"{pointer['name']} v{pointer.get('version')}"
    if (pointer["name"], pointer.get("version")) == (candidate.name, candidate.version):
        return PromotionCheck(f"{current} is already in production")
    cand_run = _source_run(candidate.source_run, runs_dir)
    prod_run = _source_run(pointer.get("source_run"), runs_dir)
    for who, ref, run in ((f"candidate {candidate.name} v{candidate.version}", candidate.source_run, cand_run),
                          (f"production {current}", pointer.get("source_run"), prod_run)):
        if run is None:
            where = f"its source run {ref} is not in {runs_dir}" if ref else "it records no source run"
            return PromotionCheck(f"{who}: no scored source run", refusal=f"{who} cannot be compared: {where}")
    assert cand_run is not None and prod_run is not None
    try:
        check_comparable(prod_run, cand_run)
    except RunError as exc:
        return PromotionCheck("source runs on different datasets", refusal=f"cannot compare with production: {exc}")
    comparison = compare_runs(prod_run, cand_run)
    delta = comparison.deltas[0]
    outcome = (f"{cand_run.run_id} vs production's {prod_run.run_id}: {comparison.verdict} (composite "
               f"{delta.delta:+.3f} [{delta.ci[0]:+.3f}, {delta.ci[1]:+.3f}], McNemar p={comparison.mcnemar_p:.3f}, "
               f"{comparison.n_shared} shared samples)")
    refusal = f"{candidate.name} is significantly worse than production {current}: {outcome}" \
        if comparison.verdict == "worse" else None
    return PromotionCheck(outcome, comparison, refusal)


def promote_checked(name: str, *, prompts_dir: Path, runs_dir: Path, force: bool = False,
                    reason: str | None = None) -> tuple[dict[str, Any], PromotionCheck]:
    """Promote NAME after check_promotion; with FORCE (and a REASON, recorded) even when the check refuses.

    Returns:
        The production pointer written, and the check's outcome.

    Raises:
        PromotionRefused: the check refused and FORCE is off, or FORCE without a REASON.
    """
    if force and not (reason and reason.strip()):
        raise PromotionRefused("--force needs --reason TEXT: the reason is recorded in the production history")
    check = check_promotion(name, prompts_dir=prompts_dir, runs_dir=runs_dir)
    if check.refusal and not force:
        raise PromotionRefused(f"{check.refusal}; production is unchanged (override with --force --reason TEXT)")
    pointer = promote(name, prompts_dir, check=check.outcome, forced=force, reason=reason)
    return pointer, check
