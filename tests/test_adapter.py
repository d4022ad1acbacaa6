from __future__ import annotations

import json
from typing import Any

import dspy
import pytest

from dspy_logeval.core.errors import ProgramNotFound
from dspy_logeval.data.taxonomy import load_taxonomy
from dspy_logeval.lm.adapter import SchemaJSONAdapter, response_format
from signatures import TEMPLATES, LogAnalysis, load_signature


def test_schema_enums_are_the_taxonomy() -> None:
    schema = response_format(LogAnalysis)["json_schema"]["schema"]
    tax = load_taxonomy()
    props = schema["properties"]
    assert props["root_cause"]["enum"] == list(tax.root_causes)
    assert props["severity"]["enum"] == list(tax.severities)
    assert props["action_needed"]["enum"] == list(tax.actions)
    assert props["summary"]["maxLength"] == 200 and "{0,29}" in props["component"]["pattern"]
    assert set(schema["required"]) == {"root_cause", "severity", "component", "summary", "action_needed"}
    assert schema["additionalProperties"] is False


def test_cot_schema_bounds_reasoning() -> None:
    schema = response_format(dspy.ChainOfThought(LogAnalysis).predict.signature)["json_schema"]["schema"]
    assert schema["properties"]["reasoning"]["maxLength"] == 600


def test_free_text_signatures_get_room_for_an_instruction() -> None:
    class Propose(dspy.Signature):  # shaped like MIPROv2's instruction proposer: no label field at all
        task: str = dspy.InputField()
        proposed_instruction: str = dspy.OutputField()
        summary: str = dspy.OutputField()

    props = response_format(Propose)["json_schema"]["schema"]["properties"]
    assert props["proposed_instruction"]["maxLength"] == props["summary"]["maxLength"] == 1500
    assert response_format(LogAnalysis)["json_schema"]["schema"]["properties"]["summary"]["maxLength"] == 200


class _Recorder(dspy.BaseLM):
    def __init__(self) -> None:
        super().__init__(model="openai/recorder")
        self.sent: list[dict[str, Any]] = []

    def forward(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        from dspy.utils.dummies import DummyLM

        self.sent.append(kwargs)
        answer = {"root_cause": "dns_timeout", "severity": "error", "component": "kube-system/coredns",
                  "summary": "upstream resolver timed out", "action_needed": "investigate_network"}
        return DummyLM([answer], adapter=dspy.JSONAdapter()).forward(prompt=prompt, messages=messages)


def test_every_call_sends_the_json_schema() -> None:
    lm = _Recorder()
    with dspy.context(lm=lm, adapter=SchemaJSONAdapter()):
        pred = dspy.Predict(LogAnalysis)(logs="x")
    assert pred.root_cause == "dns_timeout"
    sent = lm.sent[0]["response_format"]
    assert sent["type"] == "json_schema" and json.dumps(sent["json_schema"]["schema"])


def test_templates_and_unknown_template() -> None:
    assert len(TEMPLATES) >= 5
    assert "taxonomy" in load_signature("taxonomy_guided_v1").instructions.lower() or \
        "container_oom_killed" in load_signature("taxonomy_guided_v1").instructions
    with pytest.raises(ProgramNotFound, match="root_cause_v1"):
        load_signature("nope")


def test_system_prompt_is_prepended() -> None:
    sig = load_signature("root_cause_v1", system_prompt="You guard a homelab.")
    assert sig.instructions.startswith("You guard a homelab.")
