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


def test_report_shows_root_cause_confusion_and_predicted_distribution(tmp_path: Path) -> None:
    collapsed = [record(s, wrong(s, root_cause="crashloop_backoff" if i % 2 else "normal_operation",
                                  severity="error"))
                 for i, s in enumerate(SAMPLES * 3)]
    run = make_run(tmp_path, "collapsed", collapsed)
    html = write_report_html(run, run.metrics()).read_text(encoding="utf-8")
    assert "Root cause: truth vs prediction" in html and 'id="pairs"' in html
    assert "2 distinct root cause labels predicted for 4 true ones" in html       # the collapse, in words
    assert "Predicted label distribution" in html and "predicted (blue) vs true (grey)" in html
    assert "true dns_timeout, predicted crashloop_backoff" in html                   # a heatmap cell's tooltip
    assert "Predictions: 2 distinct root cause labels" in write_summary(run, run.metrics()).read_text()


def test_failures_highlight_the_fields_that_differ(run: RunFolder) -> None:
    html = write_report_html(run, run.metrics()).read_text(encoding="utf-8")
    row = html.split('data-cat="pod_lifecycle"')[1].split("</tr></tbody></table>")[0]
    assert '<tr class="diff" data-field="root_cause">' in row                       # crashloop_backoff vs oom
    assert '<tr class="same" data-field="severity">' in row and '<tr class="same" data-field="component">' in row
    assert "(no prediction)" in html                                                   # the failed sample


def test_prompt_data_is_embedded_once_and_cannot_close_the_script(tmp_path: Path) -> None:
    s1 = SAMPLES[0]
    rec = record(s1, wrong(s1)) | {"prompt_hash": "h1", "raw_completion": '{"x": "</script><b>"}'}
    run = make_run(tmp_path, "prompts", [rec])
    messages = [{"role": "system", "content": "sys </script>"}, {"role": "user", "content": "logs"}]
    key = run.prompt_store.add(messages)
    lines = (run.path / "results.jsonl").read_text().replace('"h1"', f'"{key}"')
    (run.path / "results.jsonl").write_text(lines)
    html = write_report_html(run, run.metrics()).read_text(encoding="utf-8")
    data = html.split('<script type="application/json" id="prompt-data">')[1].split("</script>")[0]
    parsed = json.loads(data)
    assert parsed["raw"] == ['{"x": "</script><b>"}'] and list(parsed["prompts"]) == [key]
    assert [m["content"] for m in parsed["messages"].values()] == ["sys </script>", "logs"]
    assert f'data-h="{key}"' in html and "function showPrompt" in html


def test_latency_histogram_has_ticks_in_ms_and_a_count_axis(run: RunFolder) -> None:
    html = write_report_html(run, run.metrics()).read_text(encoding="utf-8")
    latency = html.split("Latency distribution</h2>")[1].split("</svg>")[0]
    assert "latency per sample" in latency and "samples" in latency and " ms</text>" in latency
