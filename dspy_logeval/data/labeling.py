"""`logeval dataset label`: rule proposals a human reviews, then merged into labeled samples.

1. ``write_review(unlabeled, out=REVIEW)`` proposes labels for every sample (``label_rules.propose_labels``)
   and writes a review file: one item per sample with its logs, the proposed ``labels``, the rule that fired,
   its confidence and ``status: "proposed"``.
2. A human edits ``labels`` and sets ``status`` to ``accepted`` (keep) or ``drop``.
3. ``accept_review(unlabeled, review=REVIEW, out=LABELED)`` merges the accepted labels into samples in the
   Sample contract (category derived from the root cause), checked against the taxonomy before anything is
   written; items still ``proposed`` are left out and counted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.checks import check_samples
from dspy_logeval.data.dataset import render_logs
from dspy_logeval.data.label_rules import Proposal, propose_labels
from dspy_logeval.data.taxonomy import load_taxonomy
from dspy_logeval.data.unlabeled import UnlabeledSample, write_json_file

__all__ = ["REVIEW_KIND", "LabelOutcome", "accept_review", "review_items", "write_review"]

REVIEW_KIND = "label-review"
LABEL_FIELDS = ("root_cause", "severity", "component", "summary", "action_needed")
STATUSES = ("proposed", "accepted", "drop")
INSTRUCTIONS = ("Edit each item's labels (taxonomy labels only: datasets/taxonomy.yaml), then set status to "
                "'accepted' to keep it or 'drop' to leave it out; items still 'proposed' are not merged.")


@dataclass(frozen=True)
class LabelOutcome:
    """What one `label` call did."""

    path: Path
    accepted: int = 0
    dropped: int = 0
    pending: int = 0
    rules_fired: int = 0


def review_items(samples: Sequence[UnlabeledSample]) -> list[dict[str, Any]]:
    """One review item per sample: id, status, rule, confidence, the proposed labels and the logs."""
    items = []
    for sample in samples:
        proposal = propose_labels(render_logs(sample.logs))
        items.append({"id": sample.id, "status": "proposed", "rule": proposal.rule,
                      "confidence": proposal.confidence, "labels": _labels(proposal),
                      "logs": render_logs(sample.logs).splitlines()})
    return items


def write_review(samples: Sequence[UnlabeledSample], *, source: Path, out: Path) -> LabelOutcome:
    """Write the review file for SAMPLES (read from SOURCE) to OUT."""
    items = review_items(samples)
    write_json_file(out, {"format_version": 1, "kind": REVIEW_KIND, "source": str(source),
                          "instructions": INSTRUCTIONS, "items": items})
    fired = sum(1 for item in items if not item["rule"].startswith("no-rule"))
    return LabelOutcome(path=out, pending=len(items), rules_fired=fired)


def accept_review(samples: Sequence[UnlabeledSample], *, review: Path, out: Path) -> LabelOutcome:
    """Merge REVIEW's accepted labels into SAMPLES and write the labeled samples to OUT (all or nothing)."""
    items = _read_review(review, known={s.id for s in samples})
    by_id = {s.id: s for s in samples}
    labeled = [_labeled(by_id[item["id"]], item) for item in items if item["status"] == "accepted"]
    counts = {status: sum(1 for item in items if item["status"] == status) for status in STATUSES}
    if not labeled:
        raise DatasetError(f"{review}: no item has status 'accepted' ({counts['proposed']} proposed, "
                           f"{counts['drop']} drop); review the labels and set status first")
    problems = check_samples(labeled, path=review)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DatasetError(f"{problems[0]}{more}; fix the labels in the review file, nothing written")
    write_json_file(out, labeled)
    return LabelOutcome(path=out, accepted=len(labeled), dropped=counts["drop"], pending=counts["proposed"])


def _labels(proposal: Proposal) -> dict[str, str]:
    return {field: getattr(proposal, field) for field in LABEL_FIELDS}


def _read_review(review: Path, *, known: set[str]) -> list[dict[str, Any]]:
    try:
        raw = json.loads(review.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"review file not found: {review} (write it with `logeval dataset label FILE`)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{review} is not valid JSON: {exc}") from None
    items = raw.get("items") if isinstance(raw, dict) and raw.get("kind") == REVIEW_KIND else None
    if not isinstance(items, list):
        raise DatasetError(f"{review} is not a review file from `logeval dataset label` (no 'items' list)")
    for index, item in enumerate(items):
        where = f"{review}: item #{index}"
        if not isinstance(item, dict) or item.get("id") not in known:
            raise DatasetError(f"{where}: id {item.get('id') if isinstance(item, dict) else None!r} is not a "
                               "sample of the unlabeled file")
        if item.get("status") not in STATUSES:
            raise DatasetError(f"{where} ({item['id']}): status {item.get('status')!r} must be one of "
                               f"{', '.join(STATUSES)}")
        if item["status"] == "accepted" and not isinstance(item.get("labels"), dict):
            raise DatasetError(f"{where} ({item['id']}): labels: missing")
    return items


def _labeled(sample: UnlabeledSample, item: dict[str, Any]) -> dict[str, Any]:
    """A Sample-contract dict: the unlabeled sample plus the reviewed labels (category from the root cause)."""
    labels = {field: item["labels"].get(field) for field in LABEL_FIELDS}
    proposed = _labels(propose_labels(render_logs(sample.logs)))
    raw = sample.model_dump(mode="json", exclude_none=True)
    raw.pop("severity", None)
    return {
        "id": sample.id,
        "category": load_taxonomy().category_of(str(labels["root_cause"])) or "(unknown root cause)",
        "severity": labels["severity"],
        **raw,
        "ground_truth": labels,
        "labeling": {"rule": item.get("rule"), "confidence": item.get("confidence"),
                     "edited": sorted(f for f in LABEL_FIELDS if labels[f] != proposed[f])},
    }
