"""Export run metrics for monitoring: Prometheus text exposition, JSON, and a Pushgateway push."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import push_to_gateway as prometheus_push
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dspy_logeval.core.errors import LogevalError
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.leaderboard import leaderboard_row
from dspy_logeval.runs.metric_keys import METRICS, metric_value

LABELS = ("experiment_id", "run_id", "model", "program", "prompt_template", "dataset_version")
GAUGES = tuple((key.prometheus, f"{key.label[:1].upper()}{key.label[1:]} of the run ({key.path} in metrics.json).",
                key.path) for key in METRICS if key.prometheus)  # (metric name, help, metrics.json path)
QUANTILES = (("0.5", "p50_latency_ms"), ("0.95", "p95_latency_ms"), ("0.99", "p99_latency_ms"))


def _get(metrics: dict[str, Any], dotted: str) -> float | None:
    value = metric_value(metrics, dotted)
    return float(value) if isinstance(value, (int, float)) else None


def _labels(run: RunFolder) -> dict[str, str]:
    row = leaderboard_row(run)
    return {"experiment_id": str(row["experiment_id"] or ""), "run_id": run.run_id,
            "model": str(row["model_name"] or ""), "program": str(row["program"] or ""),
            "prompt_template": str(row["prompt_template"] or ""),
            "dataset_version": str(row["dataset_version"] or "")}


def _run_time(run_id: str) -> float | None:
    try:
        return datetime.strptime(run_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


class RunsCollector(Collector):
    """A prometheus_client collector over run folders (metrics.json + config.json), read once."""

    def __init__(self, runs: Sequence[RunFolder]) -> None:
        self._runs = [(_labels(run), run.metrics()) for run in runs]

    def collect(self) -> Iterator[Metric]:
        for name, doc, path in GAUGES:
            family = GaugeMetricFamily(name, doc, labels=LABELS)
            for labels, metrics in self._runs:
                value = _get(metrics, path)
                if value is not None:
                    family.add_metric([labels[k] for k in LABELS], value)
            yield family
        yield self._started()
        yield self._tokens()
        yield self._per_category()
        yield self._latency()

    def _started(self) -> Metric:
        family = GaugeMetricFamily("logeval_run_timestamp_seconds",
                                   "Unix time the run started (topk picks each experiment's newest run).",
                                   labels=LABELS)
        for labels, _ in self._runs:
            stamp = _run_time(labels["run_id"])
            if stamp is not None:
                family.add_metric([labels[k] for k in LABELS], stamp)
        return family

    def _tokens(self) -> Metric:
        family = GaugeMetricFamily("logeval_tokens", "Tokens used by the run, by kind.",
                                   labels=(*LABELS, "kind"))
        for labels, metrics in self._runs:
            for kind in ("prompt", "completion", "cached", "total"):
                value = _get(metrics, f"performance.{kind}_tokens")
                if value is not None:
                    family.add_metric([*(labels[k] for k in LABELS), kind], value)
        return family

    def _per_category(self) -> Metric:
        family = GaugeMetricFamily("logeval_category_accuracy_ratio",
                                   "Root cause accuracy of the run per category.",
                                   labels=(*LABELS, "category"))
        for labels, metrics in self._runs:
            for category, values in (metrics.get("per_category") or {}).items():
                family.add_metric([*(labels[k] for k in LABELS), category],
                                  float(values["root_cause_accuracy"]))
        return family

    def _latency(self) -> Metric:
        family = Metric("logeval_latency_seconds", "Per-sample latency of the run.", "summary")
        for labels, metrics in self._runs:
            n, avg = _get(metrics, "n_samples") or 0.0, _get(metrics, "performance.avg_latency_ms") or 0.0
            for quantile, key in QUANTILES:
                value = _get(metrics, f"performance.{key}")
                if value is not None:
                    family.add_sample("logeval_latency_seconds", {**labels, "quantile": quantile},
                                      value / 1000)
            family.add_sample("logeval_latency_seconds_sum", labels, n * avg / 1000)
            family.add_sample("logeval_latency_seconds_count", labels, n)
        return family


def scored(runs: Iterable[RunFolder]) -> list[RunFolder]:
    """The runs that have a metrics.json."""
    return [run for run in runs if (run.path / "metrics.json").is_file()]


def render_prometheus(runs: Sequence[RunFolder]) -> str:
    """Prometheus text exposition (format 0.0.4) of every scored run in RUNS, one label set per run."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunsCollector(scored(runs)))
    return generate_latest(registry).decode("utf-8")


def render_json(runs: Sequence[RunFolder]) -> str:
    """The same numbers as JSON: [{labels..., metrics: {name: value}}] per scored run."""
    out = []
    for run in scored(runs):
        metrics = run.metrics()
        values = {name: _get(metrics, path) for name, _, path in GAUGES}
        values.update({f"latency_{key}": _get(metrics, f"performance.{key}") for _, key in QUANTILES})
        values["total_tokens"] = _get(metrics, "performance.total_tokens")
        out.append({**_labels(run), "metrics": values})
    return json.dumps(out, indent=2) + "\n"


def push_to_gateway(runs: Sequence[RunFolder], url: str, *, job: str = "logeval",
                    client: httpx.Client | None = None) -> list[str]:
    """PUT each scored run in RUNS to the Pushgateway at URL, in a group of its own.

    The group is ``job/JOB/experiment/<experiment_id>/run/<run_id>`` (escaped by prometheus_client: base64 for
    values with ``/`` or spaces). A PUT replaces only its own group, so pushing one run never erases another
    run's series, and re-pushing a run replaces just that run.

    Returns:
        The group URLs pushed, one per run.

    Raises:
        LogevalError: the gateway is unreachable or refused a push.
    """
    http = client or httpx.Client(timeout=10.0)
    pushed: list[str] = []
    try:
        for run in scored(runs):
            registry = CollectorRegistry(auto_describe=False)
            registry.register(RunsCollector([run]))
            key = {"experiment": _labels(run)["experiment_id"], "run": run.run_id}
            prometheus_push(url, job=job, registry=registry, grouping_key=key, handler=_httpx_handler(http, pushed))
    finally:
        if client is None:
            http.close()
    return pushed


def _httpx_handler(http: httpx.Client, pushed: list[str]) -> Callable[..., Callable[[], None]]:
    """A prometheus_client push handler that sends through HTTP (injectable in tests) and records each URL."""

    def handler(url: str, method: str, timeout: float | None, headers: list[tuple[str, str]],
                data: bytes) -> Callable[[], None]:
        def send() -> None:
            try:
                response = http.request(method, url, content=data, headers=dict(headers), timeout=timeout)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise LogevalError(f"push to Pushgateway {url} failed: {exc}") from exc
            pushed.append(url)

        return send

    return handler
