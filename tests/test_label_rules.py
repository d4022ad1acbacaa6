"""The pattern labeller: one readable table, every label in the taxonomy, a pure propose_labels."""

from __future__ import annotations

import pytest
from tests_paths import MINI_GOLDEN

from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.data.label_rules import RULES, propose_labels, rules_agreement
from dspy_logeval.data.taxonomy import load_taxonomy

POD = "2026-12-04T09:00:00.000Z {ns}/{pod} {container}: {message}"


def _line(message: str, *, ns: str = "llm", pod: str = "llama-server-5d8f7c9b6d-n7tqz",
          container: str = "llama-server") -> str:
    return POD.format(ns=ns, pod=pod, container=container, message=message)


def test_rules_use_only_taxonomy_labels_and_cover_it() -> None:
    tax = load_taxonomy()
    for rule in RULES:
        assert rule.root_cause in tax.root_causes and rule.severity in tax.severities, rule.name
        assert rule.action in tax.actions and 0 < rule.confidence <= 1, rule.name
    assert len({r.name for r in RULES}) == len(RULES)
    uncovered = set(tax.root_causes) - {r.root_cause for r in RULES}
    assert uncovered == {"normal_operation"}  # healthy logs are what no rule matches


@pytest.mark.parametrize(("message", "root_cause", "rule"), [
    ("Last state: Terminated, reason: OOMKilled, exit code 137", "container_oom_killed", "oom-killed"),
    ("Back-off restarting failed container app in pod app-0 (CrashLoopBackOff)", "crashloop_backoff", "crashloop"),
    ('Back-off pulling image "ghcr.io/x/y:1.2": ImagePullBackOff', "image_pull_backoff", "image-pull-backoff"),
    ("x509: certificate has expired or is not yet valid", "tls_certificate_error", "tls-certificate"),
    ("lookup llama.llm.svc.cluster.local: NXDOMAIN", "nxdomain", "nxdomain"),
    ("read udp 10.42.0.5:41234->10.43.0.10:53: i/o timeout", "dns_timeout", "dns-timeout"),
    ("dial tcp 10.42.1.7:8080: connect: connection refused", "connection_refused", "connection-refused"),
    ("write /var/loki/wal/0001: no space left on device", "disk_pressure", "disk-pressure"),
    ("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims", "pvc_pending", "pvc-pending"),
    ('pods is forbidden: User "system:serviceaccount:x:y" cannot list resource "pods"', "rbac_permission_denied",
     "rbac-forbidden"),
    ("the request exceeds the available context size, try increasing it", "llm_context_exceeded", "llm-context"),
    ("ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 4294967296",
     "llm_oom", "llm-oom"),
    ('MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found', "configmap_not_found",
     "configmap-missing"),
    ("server returned HTTP status 429 Too Many Requests", "rate_limited", "rate-limited"),
])
def test_patterns_propose_the_root_cause(message: str, root_cause: str, rule: str) -> None:
    proposal = propose_labels(_line(message))
    assert (proposal.root_cause, proposal.rule) == (root_cause, rule)
    assert proposal.category == load_taxonomy().category_of(root_cause)
    assert proposal.component == "llm/llama-server" and 0 < proposal.confidence <= 1


def test_a_warning_line_wins_over_a_healthy_context_line() -> None:
    text = "\n".join([_line("level=info msg=\"connected to tempo\""),
                      _line("level=error msg=\"dial tcp 10.0.0.1:80: connect: connection refused\"")])
    assert propose_labels(text).root_cause == "connection_refused"


def test_no_rule_falls_back_by_severity() -> None:
    healthy = propose_labels(_line("request served in 12ms"))
    assert (healthy.root_cause, healthy.action_needed, healthy.rule) == ("normal_operation", "ignore",
                                                                         "no-rule-healthy")
    unknown = propose_labels(_line("level=error msg=\"something odd\""))
    assert unknown.rule == "no-rule" and unknown.severity == "error" and unknown.confidence < 0.2


def test_component_from_kubelet_lines_and_plain_text() -> None:
    kubelet = '2026-12-04T09:00:00Z homelab-worker-1 kubelet: "Container exited" pod="logging/loki-0" ' \
              'reason="OOMKilled"'
    assert propose_labels(kubelet).component == "logging/loki"
    assert propose_labels("OOMKilled").component == "unknown"


def test_propose_labels_is_pure() -> None:
    text = _line("x509: certificate signed by unknown authority")
    assert propose_labels(text) == propose_labels(text)


def test_rules_agreement_per_field() -> None:
    agreement = rules_agreement(load_dataset(str(MINI_GOLDEN)).samples)
    assert agreement["n"] == 5
    assert set(agreement) == {"n", "root_cause", "severity", "action_needed", "component", "category",
                              "rule_fired"}
    assert all(0.0 <= float(v) <= 1.0 for k, v in agreement.items() if k != "n")
    assert rules_agreement([])["root_cause"] == 0.0
