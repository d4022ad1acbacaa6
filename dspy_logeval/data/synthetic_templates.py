"""Templates of rare failures for `logeval dataset synthesize`: one pod (or one node's kubelet), 1-6 lines.

Each template is labeled once, here; ``synthesize.py`` fills the ``{placeholders}`` with random but realistic
values (pod hashes, IPs, nodes, sizes, durations, ids, per-line timestamps). Every line carries at least one
random value, so two samples of one template never share a message line (``validate`` refuses copies).

Placeholders: {pod} {node} {ip} {ip2} {port} {n} {n2} {ms} {secs} {mib} {limit} {id} {hash} {day} {ts} {klog}
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["TEMPLATES", "Template"]


class Template(NamedTuple):
    """A labeled failure shape; an empty ``pod_kind`` means node-level lines (kubelet) about WORKLOAD."""

    id: str
    root_cause: str
    severity: str
    action: str
    namespace: str
    workload: str
    container: str
    pod_kind: str  # "deployment", "statefulset", "daemonset" or "" (kubelet lines on a node)
    lines: tuple[str, ...]
    summary: str


TEMPLATES: tuple[Template, ...] = (
    Template("cert-expired", "tls_certificate_error", "critical", "fix_config", "envoy-gateway-system",
             "envoy-gateway", "envoy-gateway", "deployment", (
                 '{ts} error  xds  failed to load TLS secret "envoy-gateway-system/homelab-tls": x509: '
                 'certificate has expired or is not yet valid: current time {ts} is after 2026-{day}T00:00:00Z',
                 '{ts} warn  gateway-api  listener "https" of gateway "eg" not programmed: invalid certificate '
                 '(conn {id})',
                 '{ts} error  xds  push failed for {n} listeners: tls: failed to verify certificate for {ip}'),
             "The homelab-tls certificate used by the eg gateway expired, so the HTTPS listener is not programmed "
             "and TLS clients are rejected."),
    Template("rbac-denied", "rbac_permission_denied", "error", "fix_config", "flux-system",
             "kustomize-controller", "manager", "deployment", (
                 '{{"level":"error","ts":"{ts}","msg":"Reconciliation failed after {secs}s","name":"apps-{id}",'
                 '"error":"Deployment/llm/llama-server apply failed: deployments.apps \\"llama-server\\" is '
                 'forbidden: User \\"system:serviceaccount:flux-system:kustomize-controller\\" cannot patch '
                 'resource \\"deployments\\" in API group \\"apps\\" in the namespace \\"llm\\""}}',),
             "kustomize-controller's service account lacks RBAC permission to patch deployments in llm, so the "
             "apps Kustomization fails."),
    Template("pvc-pending", "pvc_pending", "warn", "investigate", "kube-system", "local-path-provisioner",
             "local-path-provisioner", "deployment", (
                 'I{klog} controller.go:1366] provision "logging/storage-loki-{n}" class "local-path": started',
                 'W{klog} controller.go:1026] Retrying syncing claim "{hash}", failure {n2}',
                 'E{klog} controller.go:957] error syncing claim "{hash}": failed to provision volume with '
                 'StorageClass "local-path": waiting for a volume to be created, node {node} has no free path '
                 'after {secs}s'),
             "The local-path provisioner cannot create the volume for logging/storage-loki, so the claim stays "
             "Pending and the Loki pod cannot start."),
    Template("image-pull-auth", "image_pull_failed", "error", "fix_config", "llm", "llama-server", "kubelet", "", (
                 'E{klog} kuberuntime_manager.go:1274] "Unhandled Error" err="failed to pull image '
                 '\\"registry.homelab.internal:5000/llama-server:b{n}\\": pull access denied, repository does not '
                 'exist or may require authorization: authorization failed: 401 Unauthorized" pod="llm/{pod}"',
                 'E{klog} pod_workers.go:1301] "Error syncing pod, skipping" err="ErrImagePull" pod="llm/{pod}" '
                 'podUID="{hash}"'),
             "The llama-server image cannot be pulled: the private registry answers 401 because the pod has no "
             "valid imagePullSecret."),
    Template("oom-killed", "container_oom_killed", "error", "increase_resources", "logging", "loki", "kubelet", "", (
                 'I{klog} kubelet.go:2453] "SyncLoop (PLEG): event for pod" pod="logging/{pod}" '
                 'event={{"ID":"{hash}","Type":"ContainerDied"}}',
                 'I{klog} kuberuntime_container.go:809] "Container exited" pod="logging/{pod}" '
                 'containerName="loki" reason="OOMKilled" exitCode=137 memoryLimit="{limit}Mi"',
                 'E{klog} pod_workers.go:1301] "Error syncing pod" err="back-off {secs}s restarting failed '
                 'container=loki pod=logging/{pod}"'),
             "Loki exceeded its memory limit and was OOMKilled (exit code 137); it restarts in a back-off loop."),
    Template("dns-nxdomain", "nxdomain", "error", "fix_config", "log-analyzer", "log-analyzer-api", "api",
             "deployment", (
                 'ERROR:    analyzer: LLM endpoint lookup failed: [Errno -2] Name or service not known: '
                 'llama-srv.llm.svc.cluster.local (request {id})',
                 'WARNING:  analyzer: retry {n2}/3 for request {id} in {ms}ms',
                 'ERROR:    analyzer: dial tcp: lookup llama-srv.llm.svc.cluster.local on {ip}:53: no such host'),
             "log-analyzer-api is configured with llama-srv.llm.svc, a Service name that does not exist (NXDOMAIN); "
             "every analysis request fails."),
    Template("dns-timeout", "dns_timeout", "error", "investigate_network", "kube-system", "coredns", "coredns",
             "deployment", (
                 '[ERROR] plugin/errors: 2 registry-1.docker.io. A: read udp {ip}:{port}->{ip2}:53: i/o timeout',
                 '[ERROR] plugin/errors: 2 ghcr.io. AAAA: read udp {ip}:{n}->{ip2}:53: i/o timeout',
                 '[WARNING] plugin/health: Local health request to "http://:8080/health" took more than 1s: '
                 '{ms}ms'),
             "CoreDNS cannot reach its upstream resolver: forwarded queries time out, so external names do not "
             "resolve in the cluster."),
    Template("context-overflow", "llm_context_exceeded", "warn", "fix_config", "llm", "llama-server",
             "llama-server", "deployment", (
                 'slot launch_slot_: id  {n2} | task {n} | processing task',
                 'slot update_slots: id  {n2} | task {n} | input truncated? prompt has {limit} tokens, n_ctx_slot '
                 '= 2048',
                 'srv    send_error: task id = {n}, error: the request exceeds the available context size, try '
                 'increasing it',
                 'srv  log_server_r: request: POST /v1/chat/completions {ip} 400'),
             "Requests to llama-server exceed the per-slot context (2048 tokens) and are refused with 400."),
    Template("llm-oom", "llm_oom", "critical", "fix_config", "llm", "llama-server", "llama-server", "deployment", (
                 'llama_kv_cache_init: CPU KV buffer size = {mib}.00 MiB',
                 'ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size {n}{n2}000000',
                 'llama_init_from_model: failed to allocate compute buffers (request {id})',
                 'main: error: failed to create context with model, exiting after {ms}ms'),
             "llama-server cannot allocate its KV cache / compute buffers in memory and exits; the LLM is down."),
    Template("disk-full", "disk_pressure", "critical", "increase_resources", "logging", "loki", "loki",
             "statefulset", (
                 'level=error ts={ts} caller=flush.go:143 org_id=fake msg="failed to flush" err="store put chunk: '
                 'write /var/loki/chunks/{hash}: no space left on device" num_chunks={n2}',
                 'level=warn ts={ts} caller=wal.go:{n} msg="failed to checkpoint WAL" err="no space left on '
                 'device"'),
             "Loki's volume is full: chunks cannot be flushed and the WAL cannot checkpoint, so logs will be lost."),
    Template("configmap-missing", "configmap_not_found", "error", "fix_config", "monitoring", "grafana",
             "kubelet", "", (
                 'E{klog} nestedpendingoperations.go:348] Operation for "{{volumeName:kubernetes.io/configmap/'
                 '{hash}-dashboards}}" failed. No retries permitted until {ts} (durationBeforeRetry {secs}s). '
                 'Error: MountVolume.SetUp failed for volume "dashboards" : configmap "grafana-dashboards" not '
                 'found',),
             "The grafana pod cannot start because the grafana-dashboards ConfigMap it mounts does not exist."),
    Template("leader-lost", "leader_election_lost", "error", "investigate", "kube-system",
             "kube-controller-manager", "kube-controller-manager", "daemonset", (
                 'E{klog} leaderelection.go:429] Failed to update lock optimistically: Put '
                 '"https://{ip}:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/'
                 'kube-controller-manager?timeout=5s": context deadline exceeded',
                 'E{klog} leaderelection.go:{n}] failed to renew lease kube-system/kube-controller-manager: '
                 'timed out waiting for the condition',
                 'F{klog} controllermanager.go:{n2}] leaderelection lost'),
             "kube-controller-manager could not renew its lease in time (API server slow) and lost leader "
             "election; controllers restart."),
    Template("conn-refused", "connection_refused", "error", "fix_config", "log-analyzer", "log-analyzer-api",
             "api", "deployment", (
                 'ERROR:    analyzer: POST http://llama-server.llm.svc:{port}/v1/chat/completions failed: '
                 '[Errno 111] Connection refused (request {id})',
                 'INFO:     {ip}:{n} - "POST /v1/analyze HTTP/1.1" 502 Bad Gateway'),
             "log-analyzer-api sends LLM requests to a port llama-server does not listen on; connections are "
             "refused and /v1/analyze returns 502."),
    Template("rate-limited", "rate_limited", "warn", "fix_config", "logging", "alloy", "alloy", "daemonset", (
                 'ts={ts} level=warn msg="Failed to send batch, retrying" component_id=loki.write.default '
                 'host=loki-gateway.logging.svc:80 status=429 error="server returned HTTP status 429 Too Many '
                 'Requests (429): Ingestion rate limit exceeded for user fake (limit: {limit} bytes/sec)"',
                 'ts={ts} level=warn msg="batch dropped after {n2} retries" entries={n}'),
             "Alloy exceeds Loki's ingestion rate limit and gets 429s; batches are retried and some are dropped."),
    Template("helm-failed", "helm_release_failed", "error", "fix_config", "flux-system", "helm-controller",
             "manager", "deployment", (
                 '{{"level":"error","ts":"{ts}","msg":"Reconciler error","controller":"helmrelease",'
                 '"name":"loki","namespace":"logging","reconcileID":"{hash}","error":"Helm upgrade failed for '
                 'release logging/loki with chart loki@6.{n2}.0: timed out waiting for the condition after '
                 '{secs}s"}}',),
             "The loki HelmRelease upgrade timed out waiting for its pods, so Helm marked the release failed."),
)
