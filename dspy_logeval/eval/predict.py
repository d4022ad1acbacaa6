"""One sample through a program: its results.jsonl record, with failures as data rather than crashes."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import dspy
from dspy.utils.callback import BaseCallback

from dspy_logeval.data.dataset import Sample, render_logs
from dspy_logeval.eval.examples import LABEL_FIELDS
from dspy_logeval.eval.failures import classify_error
from dspy_logeval.runs.prompt_store import bounded, prompt_hash
from dspy_logeval.runs.record import SampleRecord
from dspy_logeval.runs.scoring import score_sample


def _usage(pred: dspy.Prediction) -> dict[str, int]:
    usage: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0}
    for entry in (pred.get_lm_usage() or {}).values():
        usage["prompt_tokens"] += int(entry.get("prompt_tokens") or 0)
        usage["completion_tokens"] += int(entry.get("completion_tokens") or 0)
        details = entry.get("prompt_tokens_details") or {}
        usage["cached_tokens"] += int(details.get("cached_tokens") or 0)
    return usage


class LastLMCall(BaseCallback):
    """The messages and raw answer of the last LM call made while it is an active callback.

    One per sample, installed with dspy.context(callbacks=...): unlike lm.history, which every worker thread
    appends to, it sees only its own thread's calls.
    """

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] | None = None
        self.raw: str | None = None

    def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        messages, prompt = inputs.get("messages"), inputs.get("prompt")
        self.messages = [dict(m) for m in messages] if messages else [{"role": "user", "content": str(prompt)}]
        self.raw = None

    def on_lm_end(self, call_id: str, outputs: Any, exception: BaseException | None = None) -> None:
        self.raw = output_text(outputs)

    def fields(self) -> dict[str, Any]:
        """prompt_hash, raw_completion and prompt_messages for the record (empty when no call was made)."""
        return exchange_fields(self.messages, self.raw)


def output_text(outputs: Any) -> str | None:
    """The text of an LM call's first output: a string, or a dict's 'text' (chat models)."""
    first = outputs[0] if isinstance(outputs, list) and outputs else outputs
    if isinstance(first, dict):
        first = first.get("text")
    return None if first is None else str(first)


def exchange_fields(messages: list[dict[str, Any]] | None, raw: str | None) -> dict[str, Any]:
    """The record fields of one LM exchange: prompt_hash (+ the messages for prompts.jsonl), raw_completion."""
    if messages is None:
        return {}
    return {"prompt_hash": prompt_hash(messages), "prompt_messages": messages, "raw_completion": bounded(raw)}


def base_record(sample: Sample) -> dict[str, Any]:
    """The sample's half of its record: ids, labels and the rendered logs the model sees."""
    return {"sample_id": sample.id, "category": sample.category, "namespace": sample.namespace,
            "severity": sample.severity, "source": sample.source, "split": sample.split,
            "logs": render_logs(sample.logs), "actual": sample.ground_truth.model_dump()}


def finish_record(record: dict[str, Any], predicted: Mapping[str, Any] | None, *, weights: Mapping[str, float],
                  latency_ms: float, usage: Mapping[str, int], error: tuple[str, str] | None = None,
                  reasoning: str | None = None, exchange: dict[str, Any] | None = None) -> SampleRecord:
    """Complete a base_record with the prediction, its scores, what it cost and (EXCHANGE, see
    exchange_fields) what was sent and answered."""
    scores = score_sample(record["actual"], predicted, weights=weights)
    return SampleRecord.model_validate({
        **record,
        "predicted": dict(predicted) if predicted is not None else None,
        "predicted_root_cause": predicted.get("root_cause") if predicted else None,
        "is_correct": bool(scores["root_cause"] == 1.0),
        "scores": scores,
        "latency_ms": round(latency_ms, 2),
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
        "cached_tokens": usage.get("cached_tokens", 0),
        "error": error[1] if error else None,
        "error_kind": error[0] if error else None,
        "reasoning": reasoning,
        **(exchange or {}),
    })


def predict_one(program: dspy.Module, sample: Sample, *, weights: Mapping[str, float]) -> SampleRecord:
    """Run PROGRAM on one sample and return its record; a bad answer or failed request is recorded, not raised."""
    record = base_record(sample)
    call = LastLMCall()
    started = time.perf_counter()
    try:
        with dspy.context(callbacks=[*(dspy.settings.get("callbacks") or []), call]):
            pred = program(logs=record["logs"])
    except Exception as exc:  # noqa: BLE001 - every failure of one sample becomes data
        return finish_record(record, None, weights=weights, latency_ms=(time.perf_counter() - started) * 1000,
                             usage={}, error=classify_error(exc), exchange=call.fields())
    latency_ms = (time.perf_counter() - started) * 1000
    predicted = {field: getattr(pred, field, None) for field in LABEL_FIELDS}
    return finish_record(record, predicted, weights=weights, latency_ms=latency_ms, usage=_usage(pred),
                         reasoning=getattr(pred, "reasoning", None), exchange=call.fields())
