"""extract: recorded Loki responses → grouped, filtered, deduped, sampled, masked unlabeled samples."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from fake_loki import FakeLoki

from dspy_logeval.core.errors import DatasetError, LogSourceError
from dspy_logeval.data.extract.grouping import group_entries
from dspy_logeval.data.extract.loki_client import LokiClient, LokiEntry
from dspy_logeval.data.extract.pipeline import extract_samples, extract_to_file, iso_ns
from dspy_logeval.data.extract.plan import ExtractPlan, GroupingConfig, load_plan
from dspy_logeval.data.unlabeled import KIND, read_unlabeled

NOW = datetime(2026, 12, 5, tzinfo=timezone.utc)
SECRETS = ("S3cretPass", "hunter2", "AKIAEXAMPLEKEY12345", "jane.doe@example.com", "eyJhbGciOiJIUzI1NiJ9",
           "sk-live-9f8e7d6c5b4a3f2e1d0c", "192.168.1.2", "10.42.0.5")


def _plan(**changes: object) -> ExtractPlan:
    plan = load_plan()
    paging = plan.paging.model_copy(update={"page_size": 4})
    return plan.model_copy(update={"paging": paging, **changes})


def _client(fake: FakeLoki) -> LokiClient:
    return LokiClient("http://loki:3100", transport=fake.transport(), sleep=lambda s: None)


def test_funnel_counts_per_namespace() -> None:
    result = extract_samples(_plan(), client=_client(FakeLoki.from_fixtures()), now=NOW)
    ks, llm = result.counts["kube-system"], result.counts["llm"]
    assert (ks.pulled, ks.grouped, ks.after_noise, ks.after_dedupe, ks.sampled) == (14, 7, 6, 6, 6)
    assert (llm.pulled, llm.after_noise, llm.after_dedupe) == (6, 3, 2)  # the context error twice: one sample
    assert result.counts["monitoring"].pulled == 0
    assert sum(c.sampled for c in result.counts.values()) == len(result.samples) == 12


def test_samples_are_single_source_and_carry_their_extraction_metadata() -> None:
    result = extract_samples(_plan(), client=_client(FakeLoki.from_fixtures()), now=NOW)
    for sample in result.samples:
        assert sample["source"] == "real" and "ground_truth" not in sample
        assert 1 <= len(sample["logs"]) <= 6 and len({line["pod"] for line in sample["logs"]}) == 1
        meta = sample["extraction_metadata"]
        assert meta["query"].startswith(f'{{namespace="{sample["namespace"]}"}}')
        assert meta["signature"] in sample["id"] and meta["stream"]["namespace"] == sample["namespace"]
        assert meta["end"] == "2026-12-05T00:00:00.000Z" and meta["start"] == "2026-11-21T00:00:00.000Z"
        assert meta["url"].startswith("http://loki:3100/loki/api/v1/query_range?query=")
    llm = [s for s in result.samples if s["namespace"] == "llm"]
    assert max(s["extraction_metadata"]["occurrences"] for s in llm) == 2


def test_noise_lines_are_dropped() -> None:
    result = extract_samples(_plan(), client=_client(FakeLoki.from_fixtures()), now=NOW)
    messages = [line["message"] for s in result.samples for line in s["logs"]]
    assert not any("kube-probe" in m or "GET /healthz" in m for m in messages)


def test_grouping_splits_on_window_and_max_lines() -> None:
    stream = (("namespace", "a"), ("pod", "p-0"))
    entries = [LokiEntry(i * 10**9, stream, f"error {i}") for i in (0, 1, 2, 3, 40, 41)]
    groups = group_entries(entries, GroupingConfig(window_seconds=30, max_lines=3))
    assert [len(g.entries) for g in groups] == [3, 1, 2]


def test_sampling_is_seeded_and_meets_targets() -> None:
    plan = _plan()
    small = plan.model_copy(update={"namespaces": tuple(ns.model_copy(update={"target": 2})
                                                        for ns in plan.namespaces)})
    first = extract_samples(small, client=_client(FakeLoki.from_fixtures()), now=NOW)
    again = extract_samples(small, client=_client(FakeLoki.from_fixtures()), now=NOW)
    assert [s["id"] for s in first.samples] == [s["id"] for s in again.samples]
    assert first.counts["kube-system"].sampled == 2 and first.counts["kube-system"].after_dedupe == 6
    other = extract_samples(small.model_copy(update={"seed": 99}), client=_client(FakeLoki.from_fixtures()),
                            now=NOW)
    assert other.counts["kube-system"].sampled == 2


def test_output_is_masked_and_readable_as_unlabeled(tmp_path: Path) -> None:
    out = tmp_path / "unlabeled.json"
    extract_to_file(_plan(), client=_client(FakeLoki.from_fixtures()), out=out, now=NOW)
    text = out.read_text(encoding="utf-8")
    assert not [secret for secret in SECRETS if secret in text]
    assert "<user>:<password>@" in text and "Bearer <token>" in text and "<email>" in text
    assert json.loads(text)["kind"] == KIND
    assert len(read_unlabeled(out)) == 12


def test_no_message_line_is_repeated_across_samples() -> None:
    result = extract_samples(_plan(), client=_client(FakeLoki.from_fixtures()), now=NOW)
    owners: dict[str, str] = {}
    for sample in result.samples:
        for line in {line["message"] for line in sample["logs"]}:
            assert owners.setdefault(line, sample["id"]) == sample["id"]


def test_an_error_midway_leaves_no_output_file(tmp_path: Path) -> None:
    fake = FakeLoki.from_fixtures()
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return fake.handle(request) if calls["n"] < 20 else httpx.Response(401, text="unauthorized")

    out = tmp_path / "unlabeled.json"
    client = LokiClient("http://loki:3100", transport=httpx.MockTransport(flaky))
    with pytest.raises(LogSourceError, match="refused the credentials"):
        extract_to_file(_plan(), client=client, out=out, now=NOW)
    assert list(tmp_path.iterdir()) == []


def test_nothing_extracted_is_an_error_not_an_empty_file(tmp_path: Path) -> None:
    out = tmp_path / "unlabeled.json"
    with pytest.raises(DatasetError, match="no samples extracted"):
        extract_to_file(_plan(), client=_client(FakeLoki([])), out=out, now=NOW)
    assert not out.exists()


def test_iso_ns_keeps_milliseconds() -> None:
    assert iso_ns(1_764_838_800_123_456_789) == "2025-12-04T09:00:00.123Z"
