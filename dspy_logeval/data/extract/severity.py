"""How bad a log line looks, and which lines are noise (health checks, probes), without a model.

Severity comes from the line's own level when it has one (JSON ``"level"``, logfmt ``level=``, ``[ERROR]``,
klog's ``I``/``W``/``E``/``F`` prefix), otherwise from keywords. Labels are the taxonomy's severities.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["SEVERITY_RANK", "detect_severity", "is_noise", "noise_matcher", "worst"]

SEVERITY_RANK: dict[str, int] = {"info": 0, "warn": 1, "error": 2, "critical": 3}
LEVELS: dict[str, str] = {
    "trace": "info", "debug": "info", "dbug": "info", "info": "info", "notice": "info",
    "warn": "warn", "warning": "warn",
    "err": "error", "eror": "error", "error": "error",
    "crit": "critical", "critical": "critical", "fatal": "critical", "panic": "critical",
    "alert": "critical", "emerg": "critical",
}
KLOG = {"I": "info", "W": "warn", "E": "error", "F": "critical"}
LEVEL_FIELD = re.compile(
    r"""(?ix)(?:["']?(?:level|lvl|severity|loglevel)["']?\s*[:=]\s*["']?([a-z]+))   # level=.., "level":"..
    |^\s*\[([a-z]+)\]                                                              # [ERROR] ...
    |^\S*\s*\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|PANIC|CRITICAL)\b   # 2025-.. ERROR ...""")
KLOG_PREFIX = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d\d")
KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("critical", re.compile(r"(?i)\b(panic|fatal|segmentation fault|data loss)\b")),
    ("error", re.compile(r"(?i)(error|fail|refused|denied|forbidden|timeout|timed out|exception|oomkill|exceed"
                         r"|out of memory|unable to|cannot|x509|backoff|unreachable|no such host|evict)")),
    ("warn", re.compile(r"(?i)(warn|retry|retrying|deprecat|slow|throttl|high latency|degraded)")),
)
BUILTIN_NOISE = (
    r"kube-probe/",
    r"\"(?:GET|HEAD) /(?:healthz|readyz|livez|health|ready|ping|metrics)[ ?\"]",
    r"(?i:\b(?:liveness|readiness|startup) probe succeeded\b)",
    r"(?i:\bhealth ?check (?:passed|ok|succeeded)\b)",
)


def detect_severity(message: str) -> str:
    """info, warn, error or critical for one log line.

    Example:
        >>> detect_severity('E0314 09:12:09.1 reflector.go:147] failed to list'), detect_severity('level=warn msg=x')
        ('error', 'warn')
    """
    klog = KLOG_PREFIX.match(message)
    if klog:
        return KLOG[klog.group(1)]
    found = LEVEL_FIELD.search(message[:400])
    if found:
        level = LEVELS.get(next(g for g in found.groups() if g).lower())
        if level:
            return level
    for severity, pattern in KEYWORDS:
        if pattern.search(message):
            return severity
    return "info"


def worst(severities: Iterable[str]) -> str:
    """The most severe label of SEVERITIES ('info' for none)."""
    return max(severities, key=SEVERITY_RANK.__getitem__, default="info")


def noise_matcher(extra: Iterable[str] = ()) -> re.Pattern[str]:
    """One regex for the built-in noise patterns plus the plan's EXTRA ones (a leading (?i) stays scoped)."""
    scoped = (f"(?i:{p[4:]})" if p.startswith("(?i)") else f"(?:{p})" for p in (*BUILTIN_NOISE, *extra))
    return re.compile("|".join(scoped))


def is_noise(message: str, matcher: re.Pattern[str] | None = None) -> bool:
    """True for health checks, probes and the plan's noise patterns."""
    return bool((matcher or noise_matcher()).search(message))
