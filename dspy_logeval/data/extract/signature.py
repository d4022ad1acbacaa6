"""Error signatures: a log line with its variable parts masked, so repeats of one error dedupe to one sample.

Timestamps, UUIDs, hashes, IPs, pod hashes, hex ids, durations and numbers become placeholders; the
signature of a sample is a short hash of its workload, container and most severe normalized line.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["line_shape", "signature", "workload_of"]

_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?", "<ts>"),
    (r"\b[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+", "<klog>"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<uuid>"),
    (r"\b(?:sha256:)?[0-9a-f]{16,}\b", "<hash>"),
    (r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\d.])", "<ip>"),
    (r"\b([a-z0-9-]+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}\b", r"\1-<pod>"),
    (r"\b0x[0-9a-fA-F]+\b", "<hex>"),
    (r"\b\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|Mi|Gi|Ki|MB|GB|KB|B)?\b", "<n>"),
))
_POD_SUFFIXES = (
    re.compile(r"-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$"),  # Deployment
    re.compile(r"-[bcdfghjklmnpqrstvwxz2456789]{5}$"),  # DaemonSet, Job
    re.compile(r"-\d+$"),  # StatefulSet
)


def line_shape(message: str) -> str:
    """MESSAGE with its variable parts replaced by placeholders.

    Example:
        >>> line_shape("dial tcp 10.43.0.10:53: i/o timeout after 5.2s")
        'dial tcp <ip>: i/o timeout after <n>'
    """
    for pattern, replacement in _SHAPES:
        message = pattern.sub(replacement, message)
    return " ".join(message.split())


def workload_of(pod: str) -> str:
    """The workload name of a pod, without the ReplicaSet/DaemonSet hash or StatefulSet ordinal.

    Example:
        >>> workload_of("coredns-6f6b679f8f-q9wzt"), workload_of("loki-0"), workload_of("alloy-x7k2p")
        ('coredns', 'loki', 'alloy')
    """
    for suffix in _POD_SUFFIXES:
        stripped = suffix.sub("", pod)
        if stripped != pod:
            return stripped
    return pod


def signature(*, namespace: str, workload: str, container: str, key_line: str) -> str:
    """12-hex-digit signature of one error: where it happened and the shape of its key line."""
    text = "\x1f".join((namespace, workload, container, line_shape(key_line)))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
