"""summary.md and report.html from a hand-made run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runs_factory import SAMPLES, make_run, record, wrong

from dspy_logeval.core.errors import RunError
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.report import fmt, rescore_run, write_report_html, write_summary


@pytest.fixture
def run(tmp_path: Path) -> RunFolder:
    s1, s2, s3, s4 = SAMPLES
    evil = {**s2, "logs": s2["logs"] + "\n<script>alert('x')</script>"}
    bad = wrong(s2, root_cause="crashloop_backoff", summary="<b>boom</b> & more")
    records = [record(s1), record(evil, bad), record(s3, None), record(s4)]
    return make_run(tmp_path, "cot-smollm2", records)


def test_summary_has_results_table_and_failures_by_category(run: RunFolder) -> None:
    text = write_summary(run, run.metrics()).read_text(encoding="utf-8")
    assert "| Root cause exact match | 50.0% |" in text
    assert "| Composite | " in text and "95% CI" in text
    assert "## Top failures by category" in text
    assert "| pod_lifecycle | 1 |" in text and "| network | 1 |" in text
    assert "| pod_lifecycle | container_oom_killed | crashloop_backoff | 1 |" in text
    assert "| network | connection_refused | (failed) | 1 |" in text


def test_report_html_is_self_contained_and_escaped(run: RunFolder) -> None:
    html = write_report_html(run, run.metrics()).read_text(encoding="utf-8")
    assert run.run_id in html and "golden-v1" in html and "abc123" in html and "deadbeef" in html
    assert "<svg" in html and "Severity confusion" in html and "Latency distribution" in html
    assert 'id="fails"' in html and "function filt()" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)" in html
    assert "&lt;b&gt;boom&lt;/b&gt; &amp; more" in html
    assert "http://" not in html and "https://" not in html   # nothing fetched from the network
    assert html.count('<tr data-cat=') == 2                   # the wrong and the failed sample


def test_rescore_run_counts_lost_truncated_line(run: RunFolder) -> None:
    with (run.path / "results.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record(SAMPLES[0]))[:40])          # a write cut short
    (run.path / "metrics.json").unlink()
    metrics, lost = rescore_run(run)
    assert lost == 1 and metrics["n_samples"] == 4
    assert (run.path / "metrics.json").is_file() and (run.path / "report.html").is_file()


def test_rescore_empty_run_is_a_run_error(tmp_path: Path) -> None:
    empty = make_run(tmp_path, "empty", [])
    with pytest.raises(RunError, match="no complete sample"):
        rescore_run(empty)


def test_fmt() -> None:
    assert fmt(0.5, "pct") == "50.0%" and fmt(None) == "–" and fmt(1234.4, "ms") == "1234 ms"
