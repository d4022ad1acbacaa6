"""The LogAnalysis signature and its instruction variants (prompt templates).

Closed label sets are Literals built from datasets/taxonomy.yaml (a test pins them), so the JSON schema sent to
llama.cpp only admits taxonomy labels. Each template is its own class: old runs stay reproducible.
"""

from __future__ import annotations

from typing import Literal

import dspy

from dspy_logeval.core.errors import ProgramNotFound
from dspy_logeval.data.taxonomy import load_taxonomy

_TAX = load_taxonomy()
RootCause = Literal[_TAX.root_causes]  # type: ignore[name-defined]  # labels from taxonomy.yaml at import
Severity = Literal[_TAX.severities]  # type: ignore[name-defined]  # labels from taxonomy.yaml at import
Action = Literal[_TAX.actions]  # type: ignore[name-defined]  # labels from taxonomy.yaml at import

LOGS_DESC = "one line per entry: timestamp namespace/pod container: message"


class LogAnalysis(dspy.Signature):
    """Analyze these Kubernetes pod logs and identify the root cause of the incident."""

    logs: str = dspy.InputField(desc=LOGS_DESC)
    root_cause: RootCause = dspy.OutputField(desc="the root-cause label from the taxonomy")
    severity: Severity = dspy.OutputField()
    component: str = dspy.OutputField(desc="namespace/container of the failing component, or a node component")
    summary: str = dspy.OutputField(desc="one or two sentences: what happened and why")
    action_needed: Action = dspy.OutputField()


_STRUCTURED_V1 = """You are an SRE on call for a homelab Kubernetes cluster. Read the log lines, find the line that
carries the failure signal (an error, a kill, a refused or timed-out connection), ignore unrelated neighbours, then
answer: root_cause (one taxonomy label), severity (info = normal or recovered, warn = degraded, error = failing,
critical = outage or data loss), component (namespace/container), a one-sentence summary of what happened and why,
and action_needed."""

_COT_V1 = """Diagnose a Kubernetes incident from its pod logs. First reason briefly about which line is the cause and
which lines are only symptoms or noise; then give the root-cause label, the severity, the failing component as
namespace/container, a short summary of what happened and why, and the action an SRE should take."""

_FEWSHOT_V1 = """Classify the Kubernetes incident in the logs the same way the worked examples do: pick the
root-cause label, severity, failing component (namespace/container), a short why-summary and the action."""


def _taxonomy_guide() -> str:
    lines = ["Diagnose the Kubernetes incident in these logs. Use exactly one label per field.",
             "Root causes by category:"]
    for category, causes in _TAX.categories.items():
        lines.append(f"- {category}: {', '.join(causes)}")
    lines += ["Severity: info = normal or already recovered; warn = degraded but serving; error = a component is "
              "failing; critical = outage, data loss or a node down.",
              "Actions: investigate, investigate_network, fix_config, increase_resources, scale, restart, wait, "
              "monitor, ignore (for healthy logs)."]
    return "\n".join(lines)


TEMPLATES: dict[str, type[dspy.Signature]] = {
    "root_cause_v1": LogAnalysis,
    "structured_v1": LogAnalysis.with_instructions(_STRUCTURED_V1),
    "cot_v1": LogAnalysis.with_instructions(_COT_V1),
    "fewshot_v1": LogAnalysis.with_instructions(_FEWSHOT_V1),
    "taxonomy_guided_v1": LogAnalysis.with_instructions(_taxonomy_guide()),
}


def load_signature(template: str, *, system_prompt: str | None = None) -> type[dspy.Signature]:
    """The signature for a prompt template name; SYSTEM_PROMPT, when given, is prepended to its instructions."""
    try:
        signature = TEMPLATES[template]
    except KeyError:
        raise ProgramNotFound(f"unknown prompt template {template!r}; available: {', '.join(TEMPLATES)}") from None
    if system_prompt:
        signature = signature.with_instructions(f"{system_prompt.strip()}\n\n{signature.instructions}")
    return signature
