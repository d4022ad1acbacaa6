"""Masking, severity, noise and signatures of single log lines (log_masking, log_severity, log_signature)."""

from __future__ import annotations

import pytest

from dspy_logeval.data.extract.masking import build_masker
from dspy_logeval.data.extract.plan import MaskingConfig
from dspy_logeval.data.extract.severity import detect_severity, is_noise, noise_matcher
from dspy_logeval.data.extract.signature import line_shape, signature, workload_of

mask = build_masker(MaskingConfig())


@pytest.mark.parametrize(("line", "secret"), [
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2ln", "eyJhbGci"),
    ('header="authorization: Bearer abcdef0123456789"', "abcdef0123456789"),
    ("connecting to postgres://app:Pa55w0rd!@db.internal:5432/app", "Pa55w0rd"),
    ("password=hunter2 user=bob", "hunter2"),
    ('{"db_password": "swordfish", "level": "info"}', "swordfish"),
    ("GET /api?api_key=AKIA1234567890&x=1", "AKIA1234567890"),
    ("client_secret: 9f8e7d6c5b", "9f8e7d6c5b"),
    ("token=sk-live-abc123 refused", "sk-live-abc123"),
    ("mail sent to jane.doe@example.com", "jane.doe@example.com"),
    ("dial tcp 192.168.1.20:5432: connect: connection refused", "192.168.1.20"),
])
def test_secrets_and_personal_data_are_masked(line: str, secret: str) -> None:
    masked = mask(line)
    assert secret not in masked and masked != line


def test_masking_is_configurable() -> None:
    keep_ips = build_masker(MaskingConfig(ipv4=False, emails=False))
    assert keep_ips("from 10.42.0.5 by a@b.io password=x") == "from 10.42.0.5 by a@b.io password=<redacted>"


@pytest.mark.parametrize(("line", "severity"), [
    ("E1204 09:00:30.118204       1 scraper.go:149] failed", "error"),
    ("W1204 09:00:30.118204       1 reflector.go:1] slow", "warn"),
    ("F1204 09:00:30.118204       1 main.go:1] leaderelection lost", "critical"),
    ("I1204 09:00:30.118204       1 main.go:1] error in a message but klog says info", "info"),
    ('{"level":"error","msg":"x"}', "error"),
    ("level=warn msg=retrying", "warn"),
    ("ts=1 level=info msg=\"finished\" err=none", "info"),
    ("[ERROR] plugin/errors: 2 a.b. A: i/o timeout", "error"),
    ("2026-12-04 09:00:00 WARNING disk almost full", "warn"),
    ("panic: runtime error: invalid memory address", "critical"),
    ("dial tcp: connection refused", "error"),
    ("request served in 12ms", "info"),
])
def test_severity_from_levels_klog_and_keywords(line: str, severity: str) -> None:
    assert detect_severity(line) == severity


def test_noise_is_health_checks_probes_and_plan_patterns() -> None:
    matcher = noise_matcher(["(?i)heartbeat ok"])
    assert is_noise('10.42.0.1 - - "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.31"', matcher)
    assert is_noise("Readiness probe succeeded", matcher) and is_noise("HEARTBEAT OK", matcher)
    assert not is_noise("Readiness probe failed: connection refused", matcher)


def test_signature_ignores_variable_parts() -> None:
    a = ("2026-12-04T09:00:00Z read udp 10.42.0.5:41234->192.168.1.2:53: i/o timeout "
         "(id 1f3a9c0e-0b5e-4c4e-9d7e-3a1b2c3d4e5f)")
    b = ("2026-12-05T10:11:12Z read udp 10.42.0.6:5555->192.168.1.3:53: i/o timeout "
         "(id 00000000-1111-2222-3333-444444444444)")
    assert line_shape(a) == line_shape(b)
    assert signature(namespace="n", workload="w", container="c", key_line=a) == signature(
        namespace="n", workload="w", container="c", key_line=b)
    assert signature(namespace="n", workload="w", container="c", key_line=a) != signature(
        namespace="n", workload="w2", container="c", key_line=a)


@pytest.mark.parametrize(("pod", "workload"), [
    ("coredns-6f6b679f8f-q9wzt", "coredns"), ("loki-0", "loki"), ("alloy-x7k2p", "alloy"),
    ("log-analyzer-api-6c9d7f5b8-pq4rs", "log-analyzer-api"), ("loki-write", "loki-write"),
])
def test_workload_drops_the_pod_hash(pod: str, workload: str) -> None:
    assert workload_of(pod) == workload
