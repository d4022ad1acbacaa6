"""Benchmark: `dataset extract` on 100,000 recorded-format Loki lines served through httpx.MockTransport.

The lines are generated deterministically (seeded random.Random): seven namespaces, a few hundred streams, a
mix of errors with variable parts (IPs, ids, durations), warnings, health checks and routine info, over 14 days.
Prints lines/s, the wall time of the whole extraction (paging, JSON, grouping, noise, dedupe, sampling,
masking, writing) and the funnel per namespace. Target: under 10 s.

    python benchmarks/bench_extract.py [--lines 100000] [--page-size 5000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_loki import Entry, FakeLoki  # noqa: E402

from dspy_logeval.data.extract.loki_client import LokiClient  # noqa: E402
from dspy_logeval.data.extract.pipeline import extract_to_file  # noqa: E402
from dspy_logeval.data.extract.plan import load_plan  # noqa: E402

NS = 1_000_000_000
NOW = datetime(2026, 12, 5, tzinfo=timezone.utc)
WORKLOADS = {
    "kube-system": ["coredns", "metrics-server", "kube-proxy", "local-path-provisioner"],
    "logging": ["loki", "alloy", "loki-gateway"],
    "llm": ["llama-server", "model-puller"],
    "log-analyzer": ["log-analyzer-api", "log-analyzer-worker"],
    "envoy-gateway-system": ["envoy-gateway", "envoy-default-eg"],
    "flux-system": ["kustomize-controller", "helm-controller", "source-controller"],
    "monitoring": ["prometheus", "grafana", "node-exporter"],
}
TEMPLATES = (
    'level=error msg="request failed" err="dial tcp {ip}:{port}: connect: connection refused" req={id}',
    "E1204 09:00:30.118204       1 scraper.go:149] \"Failed to scrape\" err=\"x509: certificate has expired\" "
    "node=\"worker-{n}\"",
    '[ERROR] plugin/errors: 2 host{n}.example. A: read udp {ip}:{port}->192.168.1.2:53: i/o timeout',
    'level=warn msg="slow query" duration={n}ms query_id={id}',
    'level=error msg="failed to flush chunks" err="no space left on device" chunks={n}',
    "slot update_slots: id  0 | task {n} | the request exceeds the available context size, try increasing it",
    '{ip} - - "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.31"',
    "level=info msg=\"reconciled\" duration={n}ms revision=main@sha1:{id}",
    "level=error msg=\"auth failed\" url=https://svc:p4ss{n}@db.internal/ token={id} user=ops{n}@example.com",
)


def generate(lines: int, *, seed: int = 42) -> list[Entry]:
    """LINES entries spread over 14 days, 7 namespaces and ~60 streams, deterministic for SEED."""
    rng = random.Random(seed)
    streams = [(ns, w, f"{w}-{rng.randrange(16**9):09x}-{i}") for ns, ws in WORKLOADS.items() for w in ws
               for i in range(3)]
    start = int(NOW.timestamp()) * NS - 14 * 86400 * NS
    step = 14 * 86400 * NS // lines
    entries: list[Entry] = []
    for i in range(lines):
        ns, workload, pod = streams[rng.randrange(len(streams))]
        labels = (("container", workload), ("namespace", ns), ("pod", pod))
        line = TEMPLATES[rng.randrange(len(TEMPLATES))].format(
            ip=f"10.42.{rng.randrange(4)}.{rng.randrange(255)}", port=rng.randrange(1024, 65535),
            id=f"{rng.randrange(16**8):08x}", n=rng.randrange(100000))
        entries.append((start + i * step + rng.randrange(step), labels, line))
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5000)
    args = parser.parse_args()
    fake = FakeLoki(generate(args.lines))
    plan = load_plan()
    plan = plan.model_copy(update={
        "paging": plan.paging.model_copy(update={"page_size": args.page_size}),
        "namespaces": tuple(ns.model_copy(update={"line_filter": "", "max_lines": args.lines})
                            for ns in plan.namespaces)})
    with tempfile.TemporaryDirectory() as tmp, LokiClient("http://loki:3100", paging=plan.paging,
                                                          transport=fake.transport()) as client:
        started = time.perf_counter()
        result = extract_to_file(plan, client=client, out=Path(tmp) / "unlabeled.json", now=NOW)
        elapsed = time.perf_counter() - started
    pulled = sum(c.pulled for c in result.counts.values())
    for name, c in result.counts.items():
        print(f"{name:<22} pulled {c.pulled:>6}  grouped {c.grouped:>6}  after noise {c.after_noise:>6}  "
              f"after dedupe {c.after_dedupe:>5}  sampled {c.sampled:>3}/{c.target}")
    print(f"requests: {len(fake.requests)}  lines: {pulled:,}  samples: {len(result.samples)}")
    print(f"extract: {elapsed:.2f} s ({pulled / elapsed:,.0f} lines/s)  target < 10 s: "
          f"{'met' if elapsed < 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
