"""Per-record quality signals read from the input logs: hallucinated identifiers and missed failure lines.

Both rules are defined precisely in docs/metrics.md ("Signal lines", "Hallucination", "Missed log").
Logs are the runner's rendering: one line per entry, ``<timestamp> <namespace>/<pod> <container>: <message>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dspy_logeval.data.taxonomy import load_taxonomy

_LINE = re.compile(r"^(?P<ts>\S+)\s+(?P<ns>[^\s/]+)/(?P<pod>\S+)\s+(?P<container>[^\s:]+):\s?(?P<msg>.*)$")

# An explicit level decides on its own: klog's E/F headers, level=..., [LEVEL], "LEVEL:" / "LEVEL " openers,
# JSON "level":"...". Error-like levels make a signal line; info/debug/trace lines never are one.
_KLOG_LEVEL = re.compile(r"^(?P<lvl>[IWEF])\d{4}\s")
_LEVEL = re.compile(
    r"""(?:\blevel\s*[=:]\s*"?|"level"\s*:\s*"|\[|^)(?P<lvl>trace|debug|info|notice|warn|warning|error|err|"""
    r"""fatal|critical|crit|panic|severe)\b""", re.IGNORECASE)
_ERROR_LEVELS = {"e", "f", "error", "err", "fatal", "critical", "crit", "panic", "severe"}
_QUIET_LEVELS = {"i", "trace", "debug", "info", "notice"}
# Without an error level, a line is a signal line when it carries one of these failure markers.
_FAILURE = re.compile(
    r"traceback \(most recent call last\)|\b\w+(?:exception|error)\b:|\bexception\b|\bpanic:|"
    r"\b(?:http/\d(?:\.\d)?\"?\s+|status(?:code)?[=: ]\s*|code[=: ]\s*)5\d\d\b|"
    r"\bexit(?:ed)?(?: with)?(?: code|code)[=: ]\s*[1-9]\d*|"
    r"\b(?:error|failed|failure|fatal|refused|timed out|timeout|deadline exceeded|oomkilled|out of memory|"
    r"crashloopbackoff|back-off|backoff|no such host|nxdomain|unreachable|permission denied|forbidden|"
    r"unauthorized|not found|evicted|unhealthy|x509|killed|cannot|could not|unable to)\b",
    re.IGNORECASE)
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?"
_IDENTIFIER_PATTERNS = (
    re.compile(rf"^{_IPV4}$"),                                   # host IP, optionally with port
    re.compile(r"^(?=.*[a-z])[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?$"),  # dotted hostname / FQDN / file
    re.compile(r"^(?=.*[a-z])[\w.-]+(?:/[\w.-]+)+(?::[\w.-]+)?$"),  # image ref or namespace/pod
    re.compile(r"^[\w.-]+:[\w.-]*\d[\w.-]*$"),                   # image:tag, host:port
    # generated pod name (web-7d9f-x2x3z, postgres-0)
    re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-[a-z0-9]*\d[a-z0-9]*$"),
    re.compile(r"^(?=.*[\d_])[A-Z][A-Z0-9_]{2,}$|^E[A-Z]{4,}$"),  # error codes: ERR_TLS, E1234, ECONNREFUSED
    re.compile(r"^\d{3,}$"),                                     # status / exit codes, ports, counts
)
_NOT_IDENTIFIERS = {"and/or", "e.g", "i.e", "etc", "n/a", "i/o", "tcp/ip", "24/7"}
_STOPWORDS = {"the", "with", "from", "that", "this", "into", "because", "after", "when", "were", "which",
              "while", "there", "their", "been", "have", "will", "pod", "pods", "container", "error",
              "failed"}


@dataclass(frozen=True)
class LogLine:
    """One rendered log line split into its source and message."""

    namespace: str
    pod: str
    container: str
    message: str


def parse_lines(logs: str) -> Iterator[LogLine]:
    """Split rendered logs into LogLines; a line not in the rendered format keeps its text as the message."""
    for raw in logs.splitlines():
        if not raw.strip():
            continue
        m = _LINE.match(raw.strip())
        if m:
            yield LogLine(m["ns"], m["pod"], m["container"], m["msg"])
        else:
            yield LogLine("", "", "", raw.strip())


def _level(message: str) -> str | None:
    klog = _KLOG_LEVEL.match(message)
    if klog:
        return klog["lvl"].lower()
    m = _LEVEL.search(message)
    return m["lvl"].lower() if m else None


def is_signal_line(message: str) -> bool:
    """True when MESSAGE carries a failure signal: an error level, or a failure marker and no quiet level."""
    level = _level(message)
    if level in _ERROR_LEVELS:
        return True
    if level in _QUIET_LEVELS:
        return False
    return bool(_FAILURE.search(message))


def signal_lines(logs: str) -> list[LogLine]:
    """The lines of LOGS that carry a failure signal, in order."""
    return [line for line in parse_lines(logs) if is_signal_line(line.message)]


def _tokens(text: str) -> list[str]:
    return [t.strip("`'\"()[]{},;!?<>").rstrip(".:") for t in text.split()]


def identifiers(text: str) -> list[str]:
    """Tokens of TEXT that name something concrete: IPs, hosts, images, pod names, error codes, numbers."""
    found = []
    for token in _tokens(text):
        if not token or token.lower() in _NOT_IDENTIFIERS:
            continue
        if any(p.match(token) for p in _IDENTIFIER_PATTERNS):
            found.append(token)
    return found


def _component_parts(component: str) -> list[str]:
    return [p for p in re.split(r"[/\s]+", component.strip().lower().strip("`'\"")) if p]


def hallucinated_identifiers(logs: str, predicted: Mapping[str, Any]) -> list[str]:
    """Identifiers named by the prediction's component or summary that appear nowhere in LOGS."""
    haystack = logs.lower()
    claimed = _component_parts(str(predicted.get("component") or ""))
    claimed += identifiers(str(predicted.get("summary") or ""))
    return [ident for ident in claimed if ident.lower() not in haystack]


def is_hallucination(logs: str, predicted: Mapping[str, Any]) -> bool:
    """True when the prediction names an identifier (pod, container, namespace, image, host, code) absent
    from LOGS."""
    return bool(hallucinated_identifiers(logs, predicted))


def _is_healthy(root_cause: Any) -> bool:
    return load_taxonomy().category_of(str(root_cause)) == "healthy"


def _content_words(text: str) -> set[str]:
    return {t.lower() for t in _tokens(text) if len(t) >= 4 and t.lower() not in _STOPWORDS}


def _attends_to(line: LogLine, predicted: Mapping[str, Any]) -> bool:
    parts = set(_component_parts(str(predicted.get("component") or "")))
    sources = {s.lower() for s in (line.pod, line.container) if s}
    if any(part == src or src.startswith(part + "-") for part in parts for src in sources):
        return True
    summary = str(predicted.get("summary") or "").lower()
    if any(src in summary for src in sources):
        return True
    return len(_content_words(summary) & _content_words(line.message)) >= 2


def is_missed_log(logs: str, predicted: Mapping[str, Any] | None, actual: Mapping[str, Any]) -> bool:
    """True when the prediction ignores the failure the logs show.

    A failed sample misses; a healthy-labelled sample cannot miss; a prediction of a healthy root cause for a
    failure misses; otherwise it misses when it attends to none of the signal lines (the component names the
    line's pod/container, or the summary names it or shares two content words with its message).
    """
    if predicted is None:
        return True
    if _is_healthy(actual.get("root_cause")):
        return False
    if _is_healthy(predicted.get("root_cause")):
        return True
    lines = signal_lines(logs)
    if not lines:
        return False
    return not any(_attends_to(line, predicted) for line in lines)
