"""The mix of a combined set: a target share of real samples and, optionally, a severity mix.

``combine_mixed`` is ``combine`` with a mix: it downsamples the over-represented kind (real or synthetic) and
severities with a seeded ``random.Random``, spreading what it keeps over categories, and reports every target
it could not meet as one plain line (not an error): a golden set should say what it lacks.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.analysis import SEVERITY_TARGETS
from dspy_logeval.data.freeze import Stratify, assign_splits, read_sources, write_samples
from dspy_logeval.data.unlabeled import KIND as UNLABELED_KIND

__all__ = ["DEFAULT_REAL_RATIO", "MixReport", "combine_mixed", "mix_samples", "parse_severity_mix"]

DEFAULT_REAL_RATIO = 0.7
TOLERANCE = 0.05


@dataclass
class MixReport:
    """The samples kept, and one line per target: what was done and what could not be met."""

    kept: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    real_target: float | None = None


def parse_severity_mix(text: str | None) -> dict[str, float] | None:
    """'info=0.25,warn=0.25,error=0.4,critical=0.1' (or 'targets' for analyze's targets) as shares summing to 1."""
    if not text:
        return None
    if text.strip() == "targets":
        return dict(SEVERITY_TARGETS)
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            mix[name.strip()] = float(value)
        except ValueError:
            raise DatasetError(f"--severity-mix {text!r}: {part!r} is not severity=share "
                               "(e.g. info=0.25,warn=0.25,error=0.4,critical=0.1)") from None
    unknown = sorted(set(mix) - set(SEVERITY_TARGETS))
    if unknown or sum(mix.values()) <= 0 or min(mix.values()) < 0:
        raise DatasetError(f"--severity-mix {text!r}: severities are {', '.join(SEVERITY_TARGETS)} with "
                           "non-negative shares")
    total = sum(mix.values())
    return {name: share / total for name, share in mix.items()}


def mix_samples(samples: Sequence[dict[str, Any]], *, real_ratio: float | None = None,
                severity_mix: Mapping[str, float] | None = None, seed: int = 7) -> MixReport:
    """Downsample SAMPLES towards REAL_RATIO (default 0.7 when both kinds are present) and SEVERITY_MIX."""
    rng = random.Random(f"{seed}:mix")
    report = MixReport(kept=list(samples))
    _apply_ratio(report, real_ratio=real_ratio, rng=rng)
    if severity_mix:
        _apply_severity_mix(report, dict(severity_mix), rng=rng)
    return report


def combine_mixed(sources: Sequence[Path], *, out: Path, seed: int = 7, real_ratio: float | None = None,
                  severity_mix: Mapping[str, float] | None = None, stratify: Stratify = "root_cause") -> MixReport:
    """read_sources → mix_samples → assign_splits → write OUT; the report's kept samples are as written."""
    for source in sources:
        _refuse_unlabeled(source)
    report = mix_samples(read_sources(sources), real_ratio=real_ratio, severity_mix=severity_mix, seed=seed)
    report.kept = assign_splits(report.kept, seed=seed, stratify=stratify)
    write_samples(out, report.kept)
    return report


def _refuse_unlabeled(source: Path) -> None:
    try:
        head = json.loads(source.read_text(encoding="utf-8")) if source.is_file() else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return  # read_samples_json reports it
    if isinstance(head, dict) and head.get("kind") == UNLABELED_KIND:
        raise DatasetError(f"{source} holds unlabeled samples from `logeval dataset extract`: label them first "
                           f"(logeval dataset label {source})")


def _kind(sample: Mapping[str, Any]) -> str:
    return "real" if sample.get("source") == "real" else "synthetic"


def _apply_ratio(report: MixReport, *, real_ratio: float | None, rng: random.Random) -> None:
    real = [s for s in report.kept if _kind(s) == "real"]
    synthetic = [s for s in report.kept if _kind(s) == "synthetic"]
    if real_ratio is None and not (real and synthetic):
        return
    ratio = DEFAULT_REAL_RATIO if real_ratio is None else real_ratio
    report.real_target = ratio
    if not (real and synthetic):
        missing = "synthetic" if real else "real"
        if (missing == "real" and ratio > 0) or (missing == "synthetic" and ratio < 1):
            report.unmet.append(f"could not meet real share {ratio:.2f}: no {missing} samples")
        return
    total = min(len(real) / ratio if ratio else float("inf"),
                len(synthetic) / (1 - ratio) if ratio < 1 else float("inf"))
    n_real = min(len(real), round(total * ratio))
    n_synthetic = min(len(synthetic), round(total * (1 - ratio)))
    report.kept = _spread_pick(real, n_real, rng) + _spread_pick(synthetic, n_synthetic, rng)
    report.notes.append(f"real share {ratio:.2f}: kept {n_real} real + {n_synthetic} synthetic (dropped "
                        f"{len(real) - n_real} real, {len(synthetic) - n_synthetic} synthetic)")


def _apply_severity_mix(report: MixReport, mix: dict[str, float], *, rng: random.Random) -> None:
    by_severity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sample in report.kept:
        by_severity[str(sample.get("severity"))].append(sample)
    for name in [n for n, share in mix.items() if share > 0 and not by_severity.get(n)]:
        report.unmet.append(f"could not meet severity mix: no {name} samples (target {mix.pop(name):.0%})")
    wanted = {n: share for n, share in mix.items() if share > 0}
    if not wanted:
        return
    scale = min(len(by_severity[n]) / share for n, share in wanted.items())
    kept: list[dict[str, Any]] = []
    for name, share in wanted.items():
        kept += _spread_pick(by_severity[name], min(len(by_severity[name]), round(share * scale)), rng)
    report.notes.append(f"severity mix: kept {len(kept)} of {len(report.kept)} samples ("
                        + ", ".join(f"{n} {sum(1 for s in kept if s.get('severity') == n)}" for n in wanted) + ")")
    report.kept = kept
    _check_real_share(report)


def _check_real_share(report: MixReport) -> None:
    if report.real_target is None or not report.kept:
        return
    share = sum(1 for s in report.kept if _kind(s) == "real") / len(report.kept)
    if abs(share - report.real_target) > TOLERANCE:
        report.unmet.append(f"could not keep real share {report.real_target:.2f} with the severity mix: "
                            f"{share:.2f} after it")


def _spread_pick(items: Sequence[dict[str, Any]], k: int, rng: random.Random) -> list[dict[str, Any]]:
    """K of ITEMS, seeded, dealt round-robin over categories so no category is dropped before its turn."""
    if k >= len(items):
        return list(items)
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in sorted(items, key=lambda s: str(s.get("id"))):
        by_category[str(item.get("category"))].append(item)
    queues = [by_category[c] for c in sorted(by_category)]
    for queue in queues:
        rng.shuffle(queue)
    rng.shuffle(queues)
    picked: list[dict[str, Any]] = []
    while len(picked) < k:
        for queue in queues:
            if queue and len(picked) < k:
                picked.append(queue.pop())
    return picked
