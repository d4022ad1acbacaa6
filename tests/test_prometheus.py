"""Prometheus exposition (promtool when installed, else prometheus_client's parser), JSON, Pushgateway push."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from external_tools import require_tool, running_pushgateway
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
    promtool = require_tool("promtool")
    result = subprocess.run([promtool, "check", "metrics"], input=render_prometheus(runs), text=True,
                            capture_output=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_render_json(runs: list[RunFolder]) -> None:
    data = json.loads(render_json(runs))
    assert [d["experiment_id"] for d in data] == ["good", "odd"]
    assert data[0]["metrics"]["logeval_accuracy_ratio"] == 1.0 and data[0]["metrics"]["total_tokens"] == 480


def test_push_puts_each_run_in_its_own_group(runs: list[RunFolder]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    pushed = push_to_gateway(runs, "http://gw:9091/", client=client)
    assert [r.method for r in seen] == ["PUT", "PUT"]          # the unscored run is not pushed
    assert [str(r.url) for r in seen] == pushed == [
        "http://gw:9091/metrics/job/logeval/experiment/good/run/20250101-120000-good",
        "http://gw:9091/metrics/job/logeval/experiment/odd/run/20250102-120000-odd"]
    first = {f.name: f for f in text_string_to_metric_families(seen[0].content.decode())}
    assert {s.labels["run_id"] for s in first["logeval_accuracy_ratio"].samples} == {"20250101-120000-good"}


def test_push_escapes_slashes_and_empty_values(tmp_path: Path) -> None:
    run = make_run(tmp_path, "x", [record(s) for s in SAMPLES])
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(202)))
    [url] = push_to_gateway([run], "http://gw", job="team/a b", client=client)
    assert url == "http://gw/metrics/job@base64/dGVhbS9hIGI=/experiment/x/run/20250101-120000-x"


def test_push_failure_is_one_line_error(runs: list[RunFolder]) -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    with pytest.raises(LogevalError, match="push to Pushgateway http://gw/metrics/job/logeval/experiment/good/"
                                           "run/20250101-120000-good failed"):
        push_to_gateway(runs, "http://gw", client=client)


def test_real_pushgateway_keeps_every_run(tmp_path: Path) -> None:
    """Two runs pushed one after the other are both on the gateway; re-pushing one replaces only its group."""
    runs_dir = tmp_path / "runs"
    first = make_run(runs_dir, "cot", [record(s) for s in SAMPLES])
    second = make_run(runs_dir, "predict", [record(s, None) for s in SAMPLES], stamp="20250102-120000")
    again = make_run(runs_dir, "cot", [record(s, None) for s in SAMPLES], stamp="20250103-120000")
    with running_pushgateway(tmp_path) as url:
        push_to_gateway([first], url)
        push_to_gateway([second], url)
        push_to_gateway([again], url)
        push_to_gateway([first], url)                    # a second push of the same run: same group, no duplicate
        text = httpx.get(f"{url}/metrics", timeout=5.0).text
    accuracy = {f.name: f for f in text_string_to_metric_families(text)}["logeval_accuracy_ratio"].samples
    by_run = {s.labels["run"]: s for s in accuracy}
    assert sorted(by_run) == ["20250101-120000-cot", "20250102-120000-predict", "20250103-120000-cot"]
    assert len(accuracy) == 3
    assert by_run["20250101-120000-cot"].value == 1.0 and by_run["20250102-120000-predict"].value == 0.0
    for sample in accuracy:
        assert sample.labels["job"] == "logeval"
        assert sample.labels["experiment"] == sample.labels["experiment_id"]
        assert sample.labels["run"] == sample.labels["run_id"]
