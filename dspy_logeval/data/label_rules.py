"""Pattern rules that propose labels for a sample without a model: the labelling aid and the "rules" floor.

RULES is one ordered table; the first rule whose regex matches a log message (the text after the rendered
"timestamp namespace/pod container: " prefix, so a namespace named llm proves nothing) fires (specific before
generic, so an LLM out-of-memory is not taken for a container OOMKill). ``propose_labels`` is pure: the same
text always gets the same Proposal, so it can score every evaluation run as a no-LLM reference.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from dspy_logeval.data.dataset import Sample, render_logs
from dspy_logeval.data.extract.severity import detect_severity, worst
from dspy_logeval.data.extract.signature import workload_of
from dspy_logeval.data.taxonomy import load_taxonomy

__all__ = ["RULES", "FIELDS", "Proposal", "Rule", "propose_labels", "rules_agreement"]


class Rule(NamedTuple):
    """One row of the table: the first rule whose pattern matches a line decides the labels."""

    name: str
    pattern: re.Pattern[str]
    root_cause: str
    severity: str
    action: str
    confidence: float


def _rule(name: str, regex: str, root_cause: str, severity: str, action: str, confidence: float) -> Rule:
    return Rule(name, re.compile(regex, re.IGNORECASE), root_cause, severity, action, confidence)


# name, regex (case-insensitive), root_cause, severity, action_needed, confidence
RULES: tuple[Rule, ...] = (
    _rule("llm-oom", r"(ggml|cuda|kv.?cache|llama).*(out of memory|failed to allocate)|"
          r"failed to allocate.*(kv|compute) (cache|buffer)", "llm_oom", "error", "fix_config", 0.8),
    _rule("llm-context", r"exceeds? the available context size|context length exceeded|"
          r"maximum context length|n_ctx.*exceed", "llm_context_exceeded", "warn", "fix_config", 0.9),
    _rule("llm-model-load", r"error loading model|failed to load model|unable to load model|invalid gguf",
          "llm_model_load_failed", "error", "fix_config", 0.9),
    _rule("upstream-llm", r"upstream llm|llm (request|call) failed|/v1/chat/completions.*(5\d\d|timed out)|"
          r"(5\d\d|timed out).*/v1/chat/completions", "upstream_llm_error", "error", "fix_config", 0.7),
    _rule("llm-timeout", r"(llm|completion|inference|generation).*(timed out|timeout|deadline exceeded)",
          "llm_timeout", "warn", "scale", 0.6),
    _rule("oom-killed", r"oomkilled|out of memory: kill|oom-kill|memory cgroup out of memory|exit code:? 137",
          "container_oom_killed", "error", "increase_resources", 0.9),
    _rule("nxdomain", r"nxdomain|no such host", "nxdomain", "warn", "fix_config", 0.75),
    _rule("dns-timeout", r"(:53|dns|lookup).*(i/o timeout|timed out)|read udp .*:53: i/o timeout",
          "dns_timeout", "error", "investigate_network", 0.75),
    _rule("dns-failed", r"server misbehaving|servfail|dns resolution failed|lookup \S+ on \S+:53",
          "dns_resolution_failed", "error", "investigate_network", 0.7),
    _rule("image-pull-auth", r"pull access denied|unauthorized: authentication required|"
          r"failed to (pull|authorize).*(401|403|unauthorized)", "image_pull_failed", "error", "fix_config", 0.8),
    _rule("image-not-found", r"manifest unknown|not found: manifest|repository does not exist|"
          r"manifest for \S+ not found", "image_not_found", "error", "fix_config", 0.85),
    _rule("image-pull-backoff", r"imagepullbackoff|back-off pulling image", "image_pull_backoff", "warn",
          "investigate_network", 0.8),
    _rule("registry-unreachable", r"(pull|registry|/v2/).*(i/o timeout|connection refused|no such host|"
          r"tls handshake timeout)", "registry_unreachable", "error", "investigate_network", 0.6),
    _rule("image-pull-failed", r"errimagepull|failed to pull image", "image_pull_failed", "error",
          "fix_config", 0.7),
    _rule("configmap-missing", r"configmaps? \"?[\w.-]+\"? not found", "configmap_not_found", "error",
          "fix_config", 0.9),
    _rule("secret-missing", r"secrets? \"?[\w.-]+\"? not found", "secret_not_found", "error", "fix_config", 0.9),
    _rule("pvc-pending", r"waiting for a volume to be created|persistentvolumeclaim.*pending|"
          r"unbound immediate persistentvolumeclaims|no persistent volumes available", "pvc_pending", "warn",
          "investigate", 0.8),
    _rule("volume-not-found", r"volume .*not found|persistentvolumeclaim \S+ not found|"
          r"no such volume", "volume_not_found", "error", "fix_config", 0.7),
    _rule("pvc-mount", r"failedmount|unable to attach or mount volumes|mountvolume\.\w+ failed|"
          r"timed out waiting for the condition.*volume", "pvc_mount_failed", "error", "fix_config", 0.8),
    _rule("disk-pressure", r"no space left on device|diskpressure|disk pressure|"
          r"evictionthresholdmet.*(nodefs|imagefs)", "disk_pressure", "error", "increase_resources", 0.8),
    _rule("evicted", r"\bevicted\b|the node was low on resource|evicting pod", "pod_evicted", "warn",
          "increase_resources", 0.8),
    _rule("rbac-forbidden", r"forbidden: user|cannot (list|get|watch|create|update|patch|delete) resource|"
          r"is forbidden|rbac: access denied", "rbac_permission_denied", "error", "fix_config", 0.85),
    _rule("helm-failed", r"helm (install|upgrade|release)|helmrelease.*fail|install retries exhausted|"
          r"upgrade retries exhausted", "helm_release_failed", "error", "fix_config", 0.8),
    _rule("kustomization-failed", r"kustomiz\w*.*(fail|error)|dry-run failed|"
          r"reconciliation failed.*kustomization", "kustomization_failed", "error", "fix_config", 0.75),
    _rule("invalid-yaml", r"yaml: (line \d+|unmarshal)|error converting yaml|could not find expected|"
          r"mapping values are not allowed", "invalid_yaml", "error", "fix_config", 0.85),
    _rule("tls-certificate", r"x509:|certificate has expired|certificate signed by unknown authority|"
          r"tls: bad certificate|certificate verify failed", "tls_certificate_error", "error", "fix_config", 0.85),
    _rule("rate-limited", r"too many requests|rate limit|status[=: ]+429|ingestion rate", "rate_limited", "warn",
          "fix_config", 0.8),
    _rule("loki-ingester", r"ingester|failed to flush|wal.*(corrupt|fail)|loki.*(push|flush).*fail",
          "loki_ingester_failed", "error", "investigate", 0.7),
    _rule("tempo-ingestion", r"tempo.*(fail|error|refused|discard)|distributor.*(trace|span)|"
          r"otlp.*(trace|span).*(fail|error)",
          "tempo_ingestion_error", "error", "investigate", 0.6),
    _rule("alloy-scrape", r"scrape (failed|error)|failed to scrape|scrape_pool|up == 0", "alloy_scrape_failed",
          "warn", "fix_config", 0.6),
    _rule("metrics-export", r"remote.?write|failed to (send|export|push) (metrics|batch)|exporter.*fail",
          "metrics_export_failed", "error", "fix_config", 0.6),
    _rule("metrics-server", r"metrics-server|metrics\.k8s\.io|unable to (get|fetch) metrics",
          "metrics_server_missing", "warn", "fix_config", 0.6),
    _rule("leader-election", r"leader ?election lost|lost lease|failed to renew lease|leaderelection",
          "leader_election_lost", "warn", "investigate", 0.75),
    _rule("apiserver", r"apiserver|kube-apiserver|:6443.*(refused|timeout)|the server is currently unable",
          "apiserver_not_ready", "error", "investigate", 0.6),
    _rule("node-not-ready", r"node.*notready|nodenotready|node is not ready|kubelet stopped posting",
          "node_not_ready", "critical", "investigate", 0.75),
    _rule("cni", r"\bcni\b|flannel.*(fail|error)|calico.*(fail|error)|"
          r"failed to (set up|setup) (sandbox|network)|iptables-restore",
          "cni_failure", "error", "fix_config", 0.65),
    _rule("no-endpoints", r"no endpoints available|no healthy upstream|no_healthy_upstream|"
          r"endpoints? .*not found", "service_no_endpoints", "error", "fix_config", 0.75),
    _rule("upstream-unhealthy", r"upstream connect error|upstream_reset|upstream.*unhealthy|"
          r"\b503\b.*upstream", "upstream_unhealthy", "error", "investigate", 0.65),
    _rule("connection-refused", r"connection refused|econnrefused", "connection_refused", "error",
          "fix_config", 0.75),
    _rule("network-unreachable", r"network is unreachable|no route to host|enetunreach|host unreachable",
          "network_unreachable", "error", "investigate_network", 0.75),
    _rule("connection-timeout", r"i/o timeout|connection timed out|dial tcp.*timeout|context deadline exceeded",
          "connection_timeout", "warn", "investigate_network", 0.6),
    _rule("probe-failed", r"(liveness|readiness|startup) probe failed|probe failed", "probe_failed", "warn",
          "investigate", 0.7),
    _rule("crashloop", r"crashloopbackoff|back-off restarting failed container", "crashloop_backoff", "error",
          "investigate", 0.6),
    _rule("exit-nonzero", r"exit(ed)? (with )?(code|status):? ?[1-9]\d*|terminated with exit code",
          "container_exit_nonzero", "error", "investigate", 0.5),
    _rule("validation", r"validation error|\b422\b|invalid request|bad request|\b400\b",
          "request_validation_error", "warn", "fix_config", 0.5),
    _rule("empty-query", r"no (logs|results|data) (found|returned)|empty (result|response)",
          "empty_query_result", "info", "ignore", 0.5),
    _rule("stacktrace", r"traceback \(most recent call last\)|exception in thread|panic:|\bat [\w.$]+\(\w+\.java",
          "exception_stacktrace", "error", "investigate", 0.6),
    _rule("recovered", r"recovered|reconnected|back to normal|succeeded after \d+ (retries|attempts)",
          "transient_recovered", "info", "ignore", 0.5),
)
FIELDS = ("root_cause", "severity", "action_needed", "component", "category")
LINE = re.compile(r"^\S+ (?:([a-z0-9][-a-z0-9]*)/)?(\S+) ([^\s:]+): ")
POD_FIELD = re.compile(r"\bpod=\"?([a-z0-9][-a-z0-9]*)/([a-z0-9][-a-z0-9.]*)")  # kubelet's pod="ns/name"


class Proposal(BaseModel):
    """Labels proposed for one sample, with the rule that fired and how far to trust it."""

    model_config = ConfigDict(frozen=True)
    root_cause: str
    severity: str
    action_needed: str
    component: str
    category: str
    summary: str
    confidence: float
    rule: str


def propose_labels(logs_text: str) -> Proposal:
    """Labels for a rendered sample (``render_logs`` format; plain pasted text works, without component).

    Example:
        >>> p = propose_labels("2026-12-04T09:00:00Z kube-system/metrics-server-7b9c8d6f5-x2x9k metrics-server: "
        ...                    "Last state: Terminated, reason: OOMKilled, exit code 137")
        >>> p.root_cause, p.component, p.rule
        ('container_oom_killed', 'kube-system/metrics-server', 'oom-killed')
    """
    lines = [line for line in logs_text.splitlines() if line.strip()]
    severities = [detect_severity(_message(line)) for line in lines]
    signal = [line for line, severity in zip(lines, severities, strict=True) if severity != "info"]
    for candidates in (signal, lines):  # a rule on a warning beats one on a healthy context line
        for rule in RULES:
            hit = next((line for line in candidates if rule.pattern.search(_message(line))), None)
            if hit is not None:
                return _proposal(rule.name, rule.root_cause, rule.severity, rule.action, rule.confidence,
                                 line=hit, lines=lines)
    severity = worst(severities)
    if severity == "info":
        return _proposal("no-rule-healthy", "normal_operation", "info", "ignore", 0.4, line=None, lines=lines)
    return _proposal("no-rule", "exception_stacktrace", severity, "investigate", 0.1, line=None, lines=lines)


def _proposal(rule: str, root_cause: str, severity: str, action: str, confidence: float, *,
              line: str | None, lines: Sequence[str]) -> Proposal:
    component = _component(line) if line else None
    component = component or next((c for c in map(_component, lines) if c), None) or "unknown"
    shown = _message(line or (lines[0] if lines else ""))
    summary = f"{root_cause.replace('_', ' ')} in {component} (rule {rule}): {shown[:140]}"
    return Proposal(root_cause=root_cause, severity=severity, action_needed=action, component=component,
                    category=load_taxonomy().category_of(root_cause) or "", summary=summary,
                    confidence=confidence, rule=rule)


def _component(line: str) -> str | None:
    """'namespace/workload' from a rendered line's pod, or from a node-level line's pod="ns/name" field."""
    found = LINE.match(line)
    if found and found.group(1):
        return f"{found.group(1)}/{workload_of(found.group(2))}"
    named = POD_FIELD.search(line)  # node-level lines (kubelet) name the pod they are about
    return f"{named.group(1)}/{workload_of(named.group(2))}" if named else None


def _message(line: str) -> str:
    found = LINE.match(line)
    return line[found.end():] if found else line


def rules_agreement(samples: Sequence[Sample]) -> dict[str, float | int]:
    """Per-field share of SAMPLES whose golden label the rules propose, plus how often any rule fired.

    Returns:
        ``{"n": N, "root_cause": 0.42, "severity": ..., "action_needed": ..., "component": ...,
        "category": ..., "rule_fired": ...}``; shares are 0.0 for an empty list.
    """
    hits = dict.fromkeys(FIELDS, 0)
    fired = 0
    for sample in samples:
        proposal = propose_labels(render_logs(sample.logs))
        truth = sample.ground_truth.model_dump() | {"category": sample.category}
        for field in FIELDS:
            hits[field] += int(getattr(proposal, field) == truth[field])
        fired += int(not proposal.rule.startswith("no-rule"))
    n = len(samples)
    return {"n": n, **{f: round(hits[f] / n, 4) if n else 0.0 for f in FIELDS},
            "rule_fired": round(fired / n, 4) if n else 0.0}
