"""`logeval dataset extract`: a team's own Loki logs as unlabeled real samples, ready for `dataset label`.

Per namespace of the plan: pull (LokiClient) → drop noise lines → group by stream and time → keep groups that
show a warning or worse → dedupe by error signature → stratified sample to the plan's target → mask secrets.
Everything is computed in memory first; the output file is written once, atomically, at the end.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.extract.grouping import (
    CONTAINER_LABELS,
    POD_LABELS,
    Group,
    dedupe,
    drop_noise_lines,
    group_entries,
    label,
    stratified_sample,
)
from dspy_logeval.data.extract.loki_client import NS, QUERY_PATH, LokiClient, LokiEntry
from dspy_logeval.data.extract.masking import Masker, build_masker
from dspy_logeval.data.extract.plan import ExtractPlan, NamespacePlan, duration_seconds
from dspy_logeval.data.extract.severity import detect_severity, noise_matcher
from dspy_logeval.data.unlabeled import write_unlabeled

__all__ = ["ExtractResult", "NamespaceCounts", "extract_samples", "extract_to_file", "iso_ns"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]
NODE_LABELS = ("node", "node_name", "nodename", "host", "hostname")


@dataclass
class NamespaceCounts:
    """The funnel of one namespace: lines pulled, then samples at each step."""

    pulled: int = 0
    grouped: int = 0
    after_noise: int = 0
    after_dedupe: int = 0
    sampled: int = 0
    target: int = 0


@dataclass(frozen=True)
class ExtractResult:
    """The samples (as written) and each namespace's funnel counts."""

    samples: list[dict[str, Any]]
    counts: dict[str, NamespaceCounts]
    header: dict[str, Any]


def iso_ns(ts: int) -> str:
    """A nanosecond Unix timestamp as ISO 8601 UTC with milliseconds, e.g. 2026-10-03T07:41:12.208Z."""
    stamp = datetime.fromtimestamp(ts // NS, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ts % NS // 1_000_000:03d}Z"


def extract_samples(plan: ExtractPlan, *, client: LokiClient, since: str | None = None,
                    now: datetime | None = None, on_progress: Progress | None = None) -> ExtractResult:
    """Pull, filter, dedupe, sample and mask every namespace of PLAN; nothing is written.

    Args:
        plan: the extraction plan (``load_plan``).
        client: a LokiClient (tests inject an httpx.MockTransport through it).
        since: lookback for every namespace (e.g. '14d'); None uses each namespace's, then the plan's.
        now: end of the range (UTC now by default).
        on_progress: called with (namespace, lines pulled so far) after every page.

    Returns:
        The masked samples and each namespace's funnel counts.
    """
    end = now or datetime.now(timezone.utc)
    end_ns = int(end.timestamp()) * NS
    masker = build_masker(plan.masking)
    header = {"extracted_at": end.isoformat(timespec="seconds"), "loki": client.url, "seed": plan.seed}
    samples: list[dict[str, Any]] = []
    counts: dict[str, NamespaceCounts] = {}
    for ns in plan.namespaces:
        lookback = since or ns.lookback or plan.lookback
        start_ns = end_ns - duration_seconds(lookback) * NS
        entries = _pull(client, ns, start_ns=start_ns, end_ns=end_ns, on_progress=on_progress)
        chosen, counts[ns.name] = _funnel(plan, ns, entries, masker=masker)
        meta = {"query": ns.query(), "start": iso_ns(start_ns), "end": iso_ns(end_ns), **header}
        samples += [_to_sample(g, ns, meta=meta, masker=masker) for g in chosen]
    samples = _without_repeated_lines(samples)
    for name, funnel in counts.items():
        funnel.sampled = sum(1 for s in samples if s["namespace"] == name)
    return ExtractResult(samples=samples, counts=counts, header=header)


def extract_to_file(plan: ExtractPlan, *, client: LokiClient, out: Path, since: str | None = None,
                    now: datetime | None = None, on_progress: Progress | None = None) -> ExtractResult:
    """extract_samples, then write OUT as an unlabeled-samples file; on any error OUT is not created."""
    result = extract_samples(plan, client=client, since=since, now=now, on_progress=on_progress)
    if not result.samples:
        pulled = sum(c.pulled for c in result.counts.values())
        raise DatasetError(f"no samples extracted, {out} not written: Loki returned {pulled} lines for the plan's "
                           "queries and none showed a warning or worse; widen --since or check the selectors and "
                           "line filters in the plan")
    header = {**result.header, "counts": {k: asdict(v) for k, v in result.counts.items()}}
    write_unlabeled(out, result.samples, header=header)
    return result


def _pull(client: LokiClient, ns: NamespacePlan, *, start_ns: int, end_ns: int,
          on_progress: Progress | None) -> list[LokiEntry]:
    entries: list[LokiEntry] = []
    for page in client.entries(ns.query(), start_ns=start_ns, end_ns=end_ns, max_lines=ns.max_lines):
        entries += page
        if on_progress:
            on_progress(ns.name, len(entries))
    if on_progress:
        on_progress(ns.name, len(entries))  # also shows namespaces that returned nothing
    log.info("%s: %d lines from Loki", ns.name, len(entries))
    return entries


def _funnel(plan: ExtractPlan, ns: NamespacePlan, entries: Sequence[LokiEntry], *,
            masker: Masker) -> tuple[list[Group], NamespaceCounts]:
    """Group, drop noise, dedupe and sample one namespace's lines; the counts of each step."""
    groups = group_entries(drop_noise_lines(entries, noise_matcher(plan.noise)), plan.grouping)
    signal = [g for g in groups if g.severity != "info"]  # routine info alone is not an incident
    unique = dedupe(signal, namespace=ns.name, mask=masker)
    chosen = stratified_sample(unique, target=ns.target, rng=random.Random(f"{plan.seed}:{ns.name}"))
    counts = NamespaceCounts(pulled=len(entries), grouped=len(groups), after_noise=len(signal),
                             after_dedupe=len(unique), sampled=len(chosen), target=ns.target)
    return chosen, counts


def _to_sample(group: Group, ns: NamespacePlan, *, meta: dict[str, Any], masker: Masker) -> dict[str, Any]:
    stream = dict(group.stream)
    namespace = stream.get("namespace") or stream.get("k8s_namespace_name") or ns.name
    pod, container = label(group.stream, POD_LABELS), label(group.stream, CONTAINER_LABELS)
    node = label(group.stream, NODE_LABELS)
    logs = [{"timestamp": iso_ns(e.ts), "namespace": namespace, "pod": pod, "container": container,
             "node": masker(node), "message": masker(e.line)} for e in group.entries]
    return {
        "id": f"real-{ns.name}-{group.signature}",
        "namespace": ns.name,
        "severity": group.severity,
        "logs": logs,
        "source": "real",
        "extraction_metadata": {**meta, "url": _replay_url(meta["loki"], group, pod=pod, container=container),
                                "stream": {k: masker(v) for k, v in stream.items()},
                                "signature": group.signature, "occurrences": group.occurrences,
                                "workload": group.workload},
    }


def _replay_url(loki: str, group: Group, *, pod: str, container: str) -> str:
    """A query_range URL that returns this sample's lines again (no credentials: LokiClient.url has none)."""
    labels = {"namespace": dict(group.stream).get("namespace", ""), "pod": pod, "container": container}
    selector = "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items() if v) + "}"
    query = urlencode({"query": selector, "start": group.entries[0].ts, "end": group.entries[-1].ts + 1,
                       "direction": "forward"})
    return f"{loki}{QUERY_PATH}?{query}"


def _without_repeated_lines(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop message lines already used by an earlier sample (`validate` refuses copies across samples).

    A sample left without a warning-or-worse line is dropped.
    """
    used: set[str] = set()
    kept = []
    for sample in samples:
        logs = [line for line in sample["logs"] if " ".join(line["message"].split()) not in used]
        if not any(detect_severity(line["message"]) != "info" for line in logs):
            continue
        used.update(" ".join(line["message"].split()) for line in logs)
        kept.append({**sample, "logs": logs})
    return kept
