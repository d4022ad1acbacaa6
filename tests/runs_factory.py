"""Build fake run folders in tmp_path: hand-made records, config.json, results.jsonl, metrics.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.metrics import compute_metrics
from dspy_logeval.runs.scoring import score_sample

TS = "2025-01-01T00:00:00Z"


def _sample(sample_id: str, category: str, namespace: str, severity: str, source: str, logs: list[str],
            **actual: str) -> dict[str, Any]:
    return {"sample_id": sample_id, "category": category, "namespace": namespace, "severity": severity,
            "source": source, "logs": "\n".join(f"{TS} {line}" for line in logs),
            "actual": {"severity": severity, **actual}}


SAMPLES: list[dict[str, Any]] = [
    _sample("s1", "dns", "kube-system", "error", "synthetic", [
        "kube-system/coredns-5d78c9869d-x7k2p coredns: [INFO] plugin/reload: ok",
        "kube-system/coredns-5d78c9869d-x7k2p coredns: [ERROR] plugin/errors: "
        "api.example.com. A: read udp 10.244.0.5:41234->8.8.8.8:53: i/o timeout"],
        root_cause="dns_timeout", component="kube-system/coredns",
        summary="CoreDNS times out reaching the upstream resolver", action_needed="investigate_network"),
    _sample("s2", "pod_lifecycle", "shop", "critical", "real", [
        'shop/api-7d9f8c6b5d-q2w3e api: level=info msg="started"',
        'shop/api-7d9f8c6b5d-q2w3e api: level=error msg="OOMKilled exit code 137"'],
        root_cause="container_oom_killed", component="shop/api", summary="The api container was OOMKilled",
        action_needed="increase_resources"),
    _sample("s3", "network", "shop", "warn", "synthetic", [
        "shop/web-6f7c8d9e0a-z9y8x web: dial tcp 10.96.0.12:5432: connection refused"],
        root_cause="connection_refused", component="shop/web",
        summary="web cannot connect to postgres on 10.96.0.12:5432", action_needed="investigate"),
    _sample("s4", "healthy", "monitoring", "info", "real", [
        'monitoring/prometheus-0 prometheus: level=info msg="Completed compaction"'],
        root_cause="normal_operation", component="monitoring/prometheus",
        summary="Prometheus is running normally", action_needed="ignore"),
]


def record(sample: dict[str, Any], predicted: dict[str, Any] | None | str = "same", *,
           latency_ms: float = 100.0, prompt_tokens: int = 100, completion_tokens: int = 20,
           error_kind: str | None = None) -> dict[str, Any]:
    """A results.jsonl record for SAMPLE; predicted="same" copies the labels, None makes a failed sample."""
    pred = dict(sample["actual"]) if predicted == "same" else predicted
    assert not isinstance(pred, str)
    scores = score_sample(sample["actual"], pred)
    failed = pred is None
    return {**sample, "predicted": pred, "predicted_root_cause": pred["root_cause"] if pred else None,
            "is_correct": bool(scores["root_cause"]), "scores": scores, "latency_ms": latency_ms,
            "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "cached_tokens": 0,
            "error": ("model output did not parse" if failed else None),
            "error_kind": (error_kind or "parse") if failed else None, "reasoning": None}


def wrong(sample: dict[str, Any], **changes: str) -> dict[str, Any]:
    """A copy of SAMPLE's labels with CHANGES applied (default: a wrong root cause)."""
    return {**sample["actual"], **(changes or {"root_cause": "crashloop_backoff"})}


def make_run(runs_dir: Path, experiment_id: str, records: list[dict[str, Any]], *,
             stamp: str = "20250101-120000", dataset_version: str = "golden-v1", sha256: str = "abc123",
             model_name: str = "smollm2-135m", program: str = "predict", template: str = "root_cause_v1",
             with_metrics: bool = True) -> RunFolder:
    """Write a complete run folder named <stamp>-<experiment_id> under RUNS_DIR and return it."""
    path = runs_dir / f"{stamp}-{experiment_id}"
    path.mkdir(parents=True)
    config = {
        "format_version": 1, "run_id": path.name, "created": "2025-01-01T12:00:00+00:00",
        "config": {"experiment_id": experiment_id, "description": "test", "program": program,
                   "model": {"endpoint": "embedded", "name": model_name, "file": "model.gguf"},
                   "llm_config": {"temperature": 0.0, "max_tokens": 256}, "prompt": {"template": template},
                   "metrics": {"threshold": 0.7, "price_per_1k_tokens": 0.01}, "seed": 7},
        "git_commit": "3f2a9c1", "dataset": {"version": dataset_version, "sha256": sha256, "split": "test"},
        "model_sha256": "deadbeef", "packages": {"dspy": "3.4.1"}, "seed": 7,
    }
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    run = RunFolder(path)
    if with_metrics and records:
        run.write_metrics(compute_metrics(records, price_per_1k_tokens=0.01, n_bootstrap=200))
    return run
