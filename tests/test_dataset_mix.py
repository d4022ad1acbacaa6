"""combine's mix: real/synthetic ratio and severity mix, with what could not be met as plain lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.mix import combine_mixed, mix_samples, parse_severity_mix


def _samples(n: int, *, source: str, severity: str = "error", prefix: str = "") -> list[dict[str, Any]]:
    return [{"id": f"{prefix or source}-{i:03d}", "source": source, "severity": severity,
             "category": ("dns", "network", "storage")[i % 3]} for i in range(n)]


def test_default_ratio_applies_only_when_both_kinds_are_present() -> None:
    report = mix_samples(_samples(14, source="real") + _samples(20, source="synthetic"), seed=1)
    kinds = [s["source"] for s in report.kept]
    assert kinds.count("real") == 14 and kinds.count("synthetic") == 6 and not report.unmet
    only = mix_samples(_samples(10, source="synthetic"))
    assert len(only.kept) == 10 and not only.notes and not only.unmet


def test_explicit_ratio_without_real_samples_is_reported_not_raised() -> None:
    report = mix_samples(_samples(10, source="synthetic"), real_ratio=0.5)
    assert len(report.kept) == 10
    assert report.unmet == ["could not meet real share 0.50: no real samples"]


def test_severity_mix_downsamples_and_reports_missing_severities() -> None:
    samples = (_samples(40, source="synthetic", severity="error", prefix="e")
               + _samples(10, source="synthetic", severity="warn", prefix="w"))
    report = mix_samples(samples, severity_mix=parse_severity_mix("warn=0.5,error=0.5,critical=0.1"))
    counts = {sev: sum(1 for s in report.kept if s["severity"] == sev) for sev in ("warn", "error")}
    assert counts == {"warn": 10, "error": 10}
    assert report.unmet == ["could not meet severity mix: no critical samples (target 9%)"]


def test_mix_is_seeded() -> None:
    samples = _samples(10, source="real") + _samples(30, source="synthetic")
    assert mix_samples(samples, seed=3).kept == mix_samples(samples, seed=3).kept


@pytest.mark.parametrize("text", ["info=lots", "urgent=1", "info=-1,warn=2"])
def test_bad_severity_mix(text: str) -> None:
    with pytest.raises(DatasetError, match="--severity-mix"):
        parse_severity_mix(text)


def test_combine_refuses_unlabeled_files(tmp_path: Path) -> None:
    path = tmp_path / "unlabeled.json"
    path.write_text(json.dumps({"format_version": 1, "kind": "unlabeled-samples", "samples": [{"id": "a"}]}))
    with pytest.raises(DatasetError, match="label them first"):
        combine_mixed([path], out=tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()
