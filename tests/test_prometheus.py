"""Prometheus exposition (promtool when installed, else prometheus_client's parser), JSON, push."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from runs_factory import SAMPLES, make_run, record

from dspy_logeval.core.errors import LogevalError
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.prometheus import push_to_gateway, render_json, render_prometheus


@pytest.fixture
def runs(tmp_path: Path) -> list[RunFolder]:
    good = make_run(tmp_path, "good", [record(s, latency_ms=100.0 * (i + 1)) for i, s in enumerate(SAMPLES)])
    odd = make_run(tmp_path, "odd", [record(s, None) for s in SAMPLES], stamp="20250102-120000",
                   model_name='we"ird\\model')
    unscored = make_run(tmp_path, "unscored", [record(s) for s in SAMPLES], stamp="20250103-120000",
                        with_metrics=False)
    return [good, odd, unscored]


def test_exposition_parses_with_labels_and_latency(runs: list[RunFolder]) -> None:
    text = render_prometheus(runs)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    accuracy = families["logeval_accuracy_ratio"]
    assert accuracy.type == "gauge" and len(accuracy.samples) == 2   # the unscored run is left out
    good = next(s for s in accuracy.samples if s.labels["experiment_id"] == "good")
    assert good.value == 1.0 and set(good.labels) == {"experiment_id", "run_id", "model", "program",
                                                     "prompt_template", "dataset_version"}
    assert any(s.labels["model"] == 'we"ird\\model' for s in accuracy.samples)
    latency = families["logeval_latency_seconds"]
    assert latency.type == "summary"
    good_latency = [s for s in latency.samples if s.labels["experiment_id"] == "good"]
    count = next(s for s in good_latency if s.name.endswith("_count"))
    total = next(s for s in good_latency if s.name.endswith("_sum"))
    assert count.value == 4 and total.value == pytest.approx(1.0)     # 0.1 + 0.2 + 0.3 + 0.4 s
    started = families["logeval_run_timestamp_seconds"].samples
    assert sorted(s.value for s in started) == [1735732800.0, 1735819200.0]
    categories = families["logeval_category_accuracy_ratio"].samples
    assert {s.labels["category"] for s in categories} == {"dns", "pod_lifecycle", "network", "healthy"}
    for name in ("logeval_composite_score", "logeval_severity_accuracy_ratio", "logeval_parse_failure_ratio",
                 "logeval_hallucination_ratio", "logeval_tokens", "logeval_cost_usd"):
        assert name in families


def test_promtool_accepts_exposition(runs: list[RunFolder], tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed; the parser test above covers the format")
    result = subprocess.run([promtool, "check", "metrics"], input=render_prometheus(runs), text=True,
                            capture_output=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_render_json(runs: list[RunFolder]) -> None:
    data = json.loads(render_json(runs))
    assert [d["experiment_id"] for d in data] == ["good", "odd"]
    assert data[0]["metrics"]["logeval_accuracy_ratio"] == 1.0 and data[0]["metrics"]["total_tokens"] == 480


def test_push_to_gateway_puts_text() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    push_to_gateway("a 1\n", "http://gw:9091/", client=client)
    assert seen[0].method == "PUT" and str(seen[0].url) == "http://gw:9091/metrics/job/logeval"
    assert seen[0].content == b"a 1\n" and seen[0].headers["content-type"].startswith("text/plain")


def test_push_failure_is_one_line_error() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    with pytest.raises(LogevalError, match="push to Pushgateway http://gw/metrics/job/logeval failed"):
        push_to_gateway("a 1\n", "http://gw", client=client)
