"""label: rule proposals → a review file a human edits → accepted labels merged into valid samples."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fake_loki import FakeLoki

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.data.extract.loki_client import LokiClient
from dspy_logeval.data.extract.pipeline import extract_to_file
from dspy_logeval.data.extract.plan import load_plan
from dspy_logeval.data.labeling import accept_review, write_review
from dspy_logeval.data.unlabeled import UnlabeledSample, read_unlabeled


@pytest.fixture
def unlabeled(tmp_path: Path) -> Path:
    out = tmp_path / "unlabeled.json"
    client = LokiClient("http://loki:3100", transport=FakeLoki.from_fixtures().transport())
    extract_to_file(load_plan(), client=client, out=out, now=datetime(2026, 12, 5, tzinfo=timezone.utc))
    return out


def _review(unlabeled: Path, tmp_path: Path) -> tuple[list[UnlabeledSample], Path, dict[str, Any]]:
    samples = read_unlabeled(unlabeled)
    review = tmp_path / "review.json"
    write_review(samples, source=unlabeled, out=review)
    return samples, review, json.loads(review.read_text(encoding="utf-8"))


def _save(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_review_file_proposes_labels_with_rule_and_confidence(unlabeled: Path, tmp_path: Path) -> None:
    samples, _, review = _review(unlabeled, tmp_path)
    assert review["kind"] == "label-review" and len(review["items"]) == len(samples)
    item = next(i for i in review["items"] if i["rule"] == "tls-certificate")
    assert item["status"] == "proposed" and item["confidence"] > 0.5
    assert item["labels"]["root_cause"] == "tls_certificate_error"
    assert item["labels"]["component"] == "kube-system/metrics-server" and item["logs"]


def test_accept_merges_accepted_and_edited_labels(unlabeled: Path, tmp_path: Path) -> None:
    samples, review_path, review = _review(unlabeled, tmp_path)
    for item in review["items"]:
        item["status"] = "accepted"
    review["items"][0]["labels"]["summary"] = "Edited by a human."
    review["items"][1]["status"] = "drop"
    review["items"][2]["status"] = "proposed"
    out = tmp_path / "labeled.json"
    outcome = accept_review(samples, review=_save(review_path, review), out=out)
    assert (outcome.accepted, outcome.dropped, outcome.pending) == (len(samples) - 2, 1, 1)
    labeled = load_dataset(str(out)).samples
    first = next(s for s in labeled if s.id == review["items"][0]["id"])
    assert first.ground_truth.summary == "Edited by a human." and first.source == "real"
    assert first.model_extra and first.model_extra["labeling"]["edited"] == ["summary"]
    assert first.model_extra["extraction_metadata"]["signature"] in first.id


def test_a_label_outside_the_taxonomy_writes_nothing(unlabeled: Path, tmp_path: Path) -> None:
    samples, review_path, review = _review(unlabeled, tmp_path)
    review["items"][0].update(status="accepted")
    review["items"][0]["labels"]["action_needed"] = "panic"
    out = tmp_path / "labeled.json"
    with pytest.raises(DatasetError, match=r"ground_truth.action_needed: 'panic' is not in taxonomy.yaml"):
        accept_review(samples, review=_save(review_path, review), out=out)
    assert not out.exists()


@pytest.mark.parametrize(("change", "expected"), [
    (lambda r: r["items"][0].update(status="maybe"), "status 'maybe' must be one of"),
    (lambda r: r["items"][0].update(id="nope", status="accepted"), "id 'nope' is not a sample"),
    (lambda r: r.pop("items"), "is not a review file"),
    (lambda r: None, "no item has status 'accepted'"),
])
def test_bad_reviews_are_one_line(unlabeled: Path, tmp_path: Path, change: Any, expected: str) -> None:
    samples, review_path, review = _review(unlabeled, tmp_path)
    change(review)
    with pytest.raises(DatasetError, match=expected):
        accept_review(samples, review=_save(review_path, review), out=tmp_path / "labeled.json")
