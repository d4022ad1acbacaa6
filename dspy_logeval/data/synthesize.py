"""`logeval dataset synthesize`: labeled samples of rare failures, from the templates in synthetic_templates.py.

Samples are dealt round-robin over the templates of the requested root causes and filled with values from a
local ``random.Random(seed)``: the same arguments always give the same file.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dspy_logeval.core.errors import DatasetError
from dspy_logeval.data.checks import check_samples
from dspy_logeval.data.synthetic_templates import TEMPLATES, Template
from dspy_logeval.data.taxonomy import load_taxonomy
from dspy_logeval.data.unlabeled import write_json_file

__all__ = ["select_templates", "synthesize_samples", "synthesize_to_file"]

POD_CHARS = "bcdfghjklmnpqrstvwxz2456789"
EPOCH = datetime(2026, 9, 1, tzinfo=timezone.utc)
MAX_DRAWS = 20


def select_templates(root_causes: Sequence[str]) -> list[Template]:
    """The templates of ROOT_CAUSES (all templates when empty); DatasetError names unknown or uncovered ones."""
    if not root_causes:
        return list(TEMPLATES)
    known = set(load_taxonomy().root_causes)
    unknown = [rc for rc in root_causes if rc not in known]
    if unknown:
        raise DatasetError(f"root cause {', '.join(map(repr, unknown))} is not in taxonomy.yaml")
    chosen = [t for t in TEMPLATES if t.root_cause in root_causes]
    missing = [rc for rc in root_causes if not any(t.root_cause == rc for t in chosen)]
    if missing:
        covered = ", ".join(sorted({t.root_cause for t in TEMPLATES}))
        raise DatasetError(f"no template for {', '.join(missing)}; templates cover: {covered}")
    return chosen


def synthesize_samples(templates: Sequence[Template], *, n: int, seed: int = 7) -> list[dict[str, Any]]:
    """N labeled samples dealt round-robin over TEMPLATES (in a seeded order), no message line repeated."""
    rng = random.Random(seed)
    order = list(templates)
    rng.shuffle(order)
    used: set[str] = set()
    samples = []
    for index in range(n):
        template = order[index % len(order)]
        samples.append(_sample(template, rng=rng, used=used, sample_id=f"syn-{template.id}-{seed}-{index + 1:03d}",
                               seed=seed))
    return samples


def synthesize_to_file(root_causes: Sequence[str], *, n: int, seed: int, out: Path) -> list[dict[str, Any]]:
    """select_templates + synthesize_samples, validated, written atomically to OUT."""
    if n < 1:
        raise DatasetError(f"--n must be at least 1, got {n}")
    samples = synthesize_samples(select_templates(root_causes), n=n, seed=seed)
    problems = check_samples(samples, path=out)
    if problems:  # a template bug, not a user error, but never write an invalid file
        raise DatasetError(f"synthesized samples do not validate: {problems[0]}")
    write_json_file(out, samples)
    return samples


def _sample(template: Template, *, rng: random.Random, used: set[str], sample_id: str,
            seed: int) -> dict[str, Any]:
    for _ in range(MAX_DRAWS):
        logs = _logs(template, rng)
        messages = {" ".join(line["message"].split()) for line in logs}
        if not messages & used:
            break
    used.update(messages)
    truth = {"root_cause": template.root_cause, "severity": template.severity,
             "component": f"{template.namespace}/{template.workload}", "summary": template.summary,
             "action_needed": template.action}
    return {"id": sample_id, "category": load_taxonomy().category_of(template.root_cause),
            "severity": template.severity, "namespace": template.namespace, "logs": logs, "ground_truth": truth,
            "source": "synthetic",
            "provenance": {"template": template.id, "generator": "logeval dataset synthesize", "seed": seed}}


def _logs(template: Template, rng: random.Random) -> list[dict[str, str]]:
    values = _values(template, rng)
    node = f"homelab-worker-{rng.randint(1, 3)}"
    when = EPOCH + timedelta(seconds=rng.randrange(90 * 86400), milliseconds=rng.randrange(1000))
    logs = []
    for line in template.lines:
        when += timedelta(milliseconds=rng.randint(3, 9000))
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        klog = when.strftime("%m%d %H:%M:%S.") + f"{when.microsecond:06d}       1"
        message = line.format(**values, ts=stamp, klog=klog, node=node)
        on_node = not template.pod_kind  # kubelet lines: no pod, the node is the source
        logs.append({"timestamp": stamp, "namespace": template.namespace, "pod": "" if on_node else values["pod"],
                     "container": template.container, "node": node, "message": message})
    return logs


def _values(template: Template, rng: random.Random) -> dict[str, Any]:
    def pick(chars: str, k: int) -> str:
        return "".join(rng.choice(chars) for _ in range(k))

    pod = {"deployment": f"{template.workload}-{pick(POD_CHARS, rng.choice((9, 10)))}-{pick(POD_CHARS, 5)}",
           "statefulset": f"{template.workload}-{rng.randint(0, 2)}",
           "daemonset": f"{template.workload}-{pick(POD_CHARS, 5)}"}.get(template.pod_kind,
                                                                         f"{template.workload}-{pick(POD_CHARS, 5)}")
    return {"pod": pod, "ip": f"10.42.{rng.randint(0, 3)}.{rng.randint(2, 254)}",
            "ip2": f"192.168.{rng.randint(0, 9)}.{rng.randint(2, 254)}", "port": rng.randint(1024, 65000),
            "n": rng.randint(1000, 99999), "n2": rng.randint(1, 9), "ms": rng.randint(120, 30000),
            "secs": rng.randint(5, 600), "mib": rng.randint(512, 16384), "limit": rng.choice((256, 512, 1024, 2048))
            * rng.randint(1, 8), "id": pick(string.hexdigits.lower()[:16], 8), "hash": pick("0123456789abcdef", 32),
            "day": f"{rng.randint(9, 11):02d}-{rng.randint(1, 28):02d}"}
