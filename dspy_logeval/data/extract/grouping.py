"""From Loki lines to candidate samples: group by stream and time, drop noise, dedupe, sample to a target.

Each step is a pure function over the previous step's output, so the orchestrator in ``extract.py`` reads as
pull → group → filter → dedupe → sample.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from dspy_logeval.data.extract.loki_client import NS, LokiEntry
from dspy_logeval.data.extract.plan import GroupingConfig
from dspy_logeval.data.extract.severity import SEVERITY_RANK, detect_severity, worst
from dspy_logeval.data.extract.signature import signature, workload_of

__all__ = ["Group", "dedupe", "drop_noise_lines", "group_entries", "stratified_sample"]

POD_LABELS = ("pod", "pod_name", "k8s_pod_name")
CONTAINER_LABELS = ("container", "container_name", "k8s_container_name")


def label(stream: tuple[tuple[str, str], ...], names: Iterable[str]) -> str:
    """The first of NAMES present in a stream's labels ('' when none)."""
    labels = dict(stream)
    return next((labels[n] for n in names if labels.get(n)), "")


@dataclass
class Group:
    """Lines of one stream close in time: one candidate sample."""

    stream: tuple[tuple[str, str], ...]
    entries: list[LokiEntry]
    severities: list[str]
    signature: str = ""
    occurrences: int = 1
    workload: str = field(default="")

    @property
    def severity(self) -> str:
        return worst(self.severities)

    def key_line(self) -> str:
        """The first line with the group's worst severity: the one a reader would point at."""
        target = self.severity
        return next(e.line for e, s in zip(self.entries, self.severities, strict=True) if s == target)


def drop_noise_lines(entries: Iterable[LokiEntry], matcher: re.Pattern[str]) -> list[LokiEntry]:
    """ENTRIES without health checks, probes and the plan's noise patterns."""
    return [e for e in entries if not matcher.search(e.line)]


def group_entries(entries: Sequence[LokiEntry], config: GroupingConfig) -> list[Group]:
    """Consecutive lines of one stream within config.window_seconds of the group's first, at most max_lines."""
    by_stream: dict[tuple[tuple[str, str], ...], list[LokiEntry]] = defaultdict(list)
    for entry in entries:
        by_stream[entry.stream].append(entry)
    window = int(config.window_seconds * NS)
    groups: list[Group] = []
    for stream, lines in by_stream.items():
        lines.sort(key=lambda e: e.ts)
        current: list[LokiEntry] = []
        for entry in lines:
            if current and (entry.ts - current[0].ts > window or len(current) >= config.max_lines):
                groups.append(_group(stream, current))
                current = []
            current.append(entry)
        if current:
            groups.append(_group(stream, current))
    return groups


def _group(stream: tuple[tuple[str, str], ...], entries: list[LokiEntry]) -> Group:
    return Group(stream=stream, entries=entries, severities=[detect_severity(e.line) for e in entries])


def dedupe(groups: Sequence[Group], *, namespace: str, mask: Callable[[str], str] = str) -> list[Group]:
    """One group per error signature (the first seen), with how many groups shared it.

    The key line is masked (MASK) before its signature is taken, so lines that differ only in a secret or an
    email dedupe too.
    """
    kept: dict[str, Group] = {}
    for group in groups:
        pod = label(group.stream, POD_LABELS)
        group.workload = workload_of(pod) if pod else label(group.stream, ("app", "job", "service_name"))
        group.signature = signature(namespace=namespace, workload=group.workload,
                                    container=label(group.stream, CONTAINER_LABELS), key_line=mask(group.key_line()))
        if group.signature in kept:
            kept[group.signature].occurrences += 1
        else:
            kept[group.signature] = group
    return list(kept.values())


def stratified_sample(groups: Sequence[Group], *, target: int, rng: random.Random) -> list[Group]:
    """Up to TARGET groups, dealt round-robin from the severity strata (worst first), new workloads first.

    Each stratum is shuffled with RNG (a local, seeded random.Random), then stably reordered so a workload's
    first group comes before anyone's second: a namespace's samples spread over its workloads and severities.
    """
    strata: dict[str, list[Group]] = defaultdict(list)
    for group in sorted(groups, key=lambda g: g.signature):
        strata[group.severity].append(group)
    queues = []
    for severity in sorted(strata, key=SEVERITY_RANK.__getitem__, reverse=True):
        stratum = strata[severity]
        rng.shuffle(stratum)
        seen: dict[str, int] = defaultdict(int)
        ranked = []
        for group in stratum:
            ranked.append((seen[group.workload], group))
            seen[group.workload] += 1
        queues.append([g for _, g in sorted(ranked, key=lambda pair: pair[0])])
    chosen: list[Group] = []
    while len(chosen) < target and any(queues):
        for queue in queues:
            if queue and len(chosen) < target:
                chosen.append(queue.pop(0))
    return chosen
