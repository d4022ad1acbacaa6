"""One sample through a program: its results.jsonl record, with failures as data rather than crashes."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import dspy
from dspy.utils.exceptions import AdapterParseError
from litellm import exceptions as llm_errors

from dspy_logeval.core.redact import redact_url
from dspy_logeval.data.dataset import Sample, render_logs
from dspy_logeval.eval.examples import LABEL_FIELDS
from dspy_logeval.runs.record import SampleRecord
from dspy_logeval.runs.scoring import score_sample

TRANSPORT = "transport"


def classify_error(exc: BaseException) -> tuple[str, str]:
    """(error_kind, short reason) for an exception raised while predicting one sample."""
    text = redact_url(str(exc).replace("\n", " "))
    if isinstance(exc, AdapterParseError):
        return "parse", f"answer did not parse: {text[:200]}"
    if isinstance(exc, llm_errors.ContextWindowExceededError) or "context size" in text or "context length" in text:
        return "context", "prompt does not fit the server's context window (refused, not truncated)"
    if isinstance(exc, llm_errors.Timeout):
        return "timeout", f"request timed out: {text[:160]}"
    if isinstance(exc, (llm_errors.APIConnectionError, llm_errors.ServiceUnavailableError,
                        llm_errors.InternalServerError, ConnectionError)):
        return TRANSPORT, f"LM unreachable: {text[:160]}"
    if isinstance(exc, llm_errors.BadRequestError):
        return "request", f"server refused the request: {text[:200]}"
    return "error", f"{type(exc).__name__}: {text[:200]}"


def _usage(pred: dspy.Prediction) -> dict[str, int]:
    usage: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0}
    for entry in (pred.get_lm_usage() or {}).values():
        usage["prompt_tokens"] += int(entry.get("prompt_tokens") or 0)
        usage["completion_tokens"] += int(entry.get("completion_tokens") or 0)
        details = entry.get("prompt_tokens_details") or {}
        usage["cached_tokens"] += int(details.get("cached_tokens") or 0)
    return usage


def base_record(sample: Sample) -> dict[str, Any]:
    """The sample's half of its record: ids, labels and the rendered logs the model sees."""
    return {"sample_id": sample.id, "category": sample.category, "namespace": sample.namespace,
            "severity": sample.severity, "source": sample.source, "split": sample.split,
            "logs": render_logs(sample.logs), "actual": sample.ground_truth.model_dump()}


def finish_record(record: dict[str, Any], predicted: Mapping[str, Any] | None, *, weights: Mapping[str, float],
                  latency_ms: float, usage: Mapping[str, int], error: tuple[str, str] | None = None,
                  reasoning: str | None = None) -> SampleRecord:
    """Complete a base_record with the prediction, its scores and what it cost."""
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
    })


def predict_one(program: dspy.Module, sample: Sample, *, weights: Mapping[str, float]) -> SampleRecord:
    """Run PROGRAM on one sample and return its record; a bad answer or failed request is recorded, not raised."""
    record = base_record(sample)
    started = time.perf_counter()
    try:
        pred = program(logs=record["logs"])
    except Exception as exc:  # noqa: BLE001 - every failure of one sample becomes data
        return finish_record(record, None, weights=weights, latency_ms=(time.perf_counter() - started) * 1000,
                             usage={}, error=classify_error(exc))
    latency_ms = (time.perf_counter() - started) * 1000
    predicted = {field: getattr(pred, field, None) for field in LABEL_FIELDS}
    return finish_record(record, predicted, weights=weights, latency_ms=latency_ms, usage=_usage(pred),
                         reasoning=getattr(pred, "reasoning", None))
