"""OracleLM: a fake OpenAI-style LM that answers each sample with its ground truth (or a fixed wrong answer)."""

from __future__ import annotations

import json
from typing import Any

import dspy
from dspy.utils.dummies import DummyLM

from dspy_logeval.data.dataset import Sample, render_logs


class OracleLM(DummyLM):
    """Finds which sample's rendered logs end the prompt and answers with its labels; WRONG ids get `wrong`."""

    def __init__(self, samples: list[Sample], *, wrong: set[str] | None = None,
                 wrong_answer: dict[str, Any] | None = None) -> None:
        super().__init__([{}], adapter=dspy.JSONAdapter())
        self.samples = samples
        self.wrong = wrong or set()
        self.wrong_answer = wrong_answer or {"root_cause": "normal_operation", "severity": "info",
                                             "component": "x", "summary": "fine", "action_needed": "ignore"}
        self.calls = 0

    def _answer(self, prompt_text: str) -> dict[str, Any]:
        for sample in self.samples:
            if render_logs(sample.logs) in prompt_text:
                if sample.id in self.wrong:
                    return self.wrong_answer
                return {"reasoning": "the causal line", **sample.ground_truth.model_dump()}
        return self.wrong_answer

    def forward(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        self.calls += 1
        last = messages[-1]["content"] if messages else str(prompt)
        self.answers = iter([self._answer(last)])
        return super().forward(prompt=prompt, messages=messages, **kwargs)


class ProposerLM(OracleLM):
    """An OracleLM that also answers MIPROv2's proposer signatures (dataset and program descriptions, instructions):
    every output field of a request whose schema is not the analysis one gets a fixed text."""

    INSTRUCTION = "Quote the causal log line, then name its root cause from the taxonomy."

    def __init__(self, samples: list[Sample], **kwargs: Any) -> None:
        super().__init__(samples, **kwargs)
        self.proposer_calls = 0

    def forward(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        schema = (kwargs.get("response_format") or {}).get("json_schema", {}).get("schema", {})
        fields = list(schema.get("properties", {}))
        if not fields or "root_cause" in fields:
            return super().forward(prompt=prompt, messages=messages, **kwargs)
        self.calls += 1
        self.proposer_calls += 1
        self.answers = iter([{name: self.INSTRUCTION for name in fields}])
        return DummyLM.forward(self, prompt=prompt, messages=messages, **kwargs)


def answer_json(sample: Sample) -> str:
    return json.dumps(sample.ground_truth.model_dump())


__all__ = ["OracleLM", "ProposerLM", "render_logs"]
