"""Signal lines, hallucination and missed-log on hand-made cases."""

from __future__ import annotations

import pytest

from dspy_logeval.runs.signals import (
    hallucinated_identifiers,
    identifiers,
    is_hallucination,
    is_missed_log,
    is_signal_line,
    signal_lines,
)

TS = "2025-01-01T00:00:00Z"
LOGS = "\n".join([
    f"{TS} shop/api-7d9f8c6b5d-q2w3e api: level=info msg=\"listening on :8080\"",
    f"{TS} shop/api-7d9f8c6b5d-q2w3e api: level=info msg=\"retrying after failed attempt\"",
    f"{TS} shop/db-0 postgres: LOG:  database system is ready",
    f"{TS} shop/api-7d9f8c6b5d-q2w3e api: dial tcp 10.96.0.12:5432: connect: connection refused",
])
ACTUAL = {"root_cause": "connection_refused", "severity": "error", "component": "shop/api",
          "summary": "api cannot reach postgres", "action_needed": "investigate"}


@pytest.mark.parametrize(("message", "signal"), [
    ("E0101 12:00:00.000000       1 reflector.go:138] failed to list *v1.Pod", True),   # klog E
    ("F0101 12:00:00.000000       1 main.go:10] fatal", True),                           # klog F
    ("I0101 12:00:00.000000       1 main.go:10] failed to list, will retry", False),     # klog I wins
    ("level=error msg=\"write failed\"", True),
    ("{\"level\":\"critical\",\"msg\":\"disk\"}", True),
    ("level=info msg=\"retrying after failed attempt\"", False),
    ("[ERROR] plugin/errors: 2 example.com. A: i/o timeout", True),
    ("ERROR: relation does not exist", True),
    ("Traceback (most recent call last):", True),
    ("ValueError: invalid literal for int()", True),
    ("GET /api 200 12ms", False),
    ("\"GET /api HTTP/1.1\" 503 0", True),
    ("upstream returned status=502", True),
    ("Back-off restarting failed container", True),
    ("Container exited with code 137", True),
    ("Completed compaction in 2s", False),
    ("WARN slow query took 3s", False),          # a warning without a failure marker
    ("W0101 12:00:00.000000 1 x.go:1] probe failed", True),  # a warning with one
])
def test_signal_line_rule(message: str, signal: bool) -> None:
    assert is_signal_line(message) is signal


def test_signal_lines_keep_source() -> None:
    lines = signal_lines(LOGS)
    assert [(line.pod, line.container) for line in lines] == [("api-7d9f8c6b5d-q2w3e", "api")]
    assert "connection refused" in lines[0].message


def test_identifiers_in_prose() -> None:
    text = ("The pod web-7d9f-x2x3z could not pull ghcr.io/acme/web:1.2 from registry.acme.io, got 503 "
            "and ECONNREFUSED from 10.0.0.9:443, e.g. an outage, and/or a typo.")
    assert identifiers(text) == ["web-7d9f-x2x3z", "ghcr.io/acme/web:1.2", "registry.acme.io", "503",
                                 "ECONNREFUSED", "10.0.0.9:443"]
    assert identifiers("The API server is slow; CoreDNS restarted twice.") == []


def test_no_hallucination_when_everything_is_in_the_logs() -> None:
    pred = {**ACTUAL, "component": "shop/api", "summary": "api gets connection refused from 10.96.0.12:5432"}
    assert not is_hallucination(LOGS, pred)


@pytest.mark.parametrize(("change", "invented"), [
    ({"component": "payments/api"}, "payments"),                     # namespace not in the logs
    ({"component": "shop/redis"}, "redis"),                          # container not in the logs
    ({"summary": "api cannot reach 10.96.0.99:5432"}, "10.96.0.99:5432"),  # IP not in the logs
    ({"summary": "image ghcr.io/acme/api:2.0 is broken"}, "ghcr.io/acme/api:2.0"),
    ({"summary": "api returns HTTP 504"}, "504"),
])
def test_hallucinated_identifier(change: dict[str, str], invented: str) -> None:
    pred = {**ACTUAL, **change}
    assert is_hallucination(LOGS, pred)
    assert invented in hallucinated_identifiers(LOGS, pred)


def test_missed_log_cases() -> None:
    attends_component = {**ACTUAL, "summary": "something is wrong"}
    attends_summary = {**ACTUAL, "component": "shop/db", "summary": "connection refused on port 5432"}
    ignores = {**ACTUAL, "component": "shop/db", "summary": "database is ready"}
    healthy_guess = {**ACTUAL, "root_cause": "normal_operation"}
    assert not is_missed_log(LOGS, attends_component, ACTUAL)
    assert not is_missed_log(LOGS, attends_summary, ACTUAL)   # shares "connection", "refused"
    assert is_missed_log(LOGS, ignores, ACTUAL)
    assert is_missed_log(LOGS, healthy_guess, ACTUAL)        # called a failure healthy
    assert is_missed_log(LOGS, None, ACTUAL)                 # failed sample


def test_healthy_sample_cannot_miss_and_no_signal_line_cannot_miss() -> None:
    healthy = {**ACTUAL, "root_cause": "normal_operation"}
    assert not is_missed_log(LOGS, {**ACTUAL, "component": "shop/db"}, healthy)
    quiet = f"{TS} shop/api-1 api: level=info msg=\"ok\""
    assert not is_missed_log(quiet, {**ACTUAL, "component": "shop/db"}, ACTUAL)
