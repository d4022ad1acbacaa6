"""What went wrong with one sample, named from what the stack really raises (dspy 3.4, litellm, httpx, ours).

Two families, and they are treated differently:

* the LM side failed (INFRASTRUCTURE: transport, server, bad_response, request, timeout): the model was never
  asked, so the sample says nothing about it. Such a sample is kept out of results.jsonl and metrics (it goes to
  failures.jsonl), counts toward the stop rule, leaves the run incomplete, and `--resume` retries it;
* the model answered (parse: not in the schema; context: the prompt does not fit its window; error: the
  program itself failed): that is the model's (or the program's) score, recorded and counted as wrong.
"""

from __future__ import annotations

from typing import Literal

import httpx
from dspy.utils.exceptions import (
    AdapterParseError,
    ContextWindowExceededError,
    LMAuthError,
    LMInvalidRequestError,
    LMProviderError,
    LMRateLimitError,
    LMServerError,
    LMTimeoutError,
    LMTransportError,
    LMUnexpectedError,
)
from litellm import exceptions as llm_errors

from dspy_logeval.core.errors import AnalysisParseError, LMRequestError, LMResponseError, ModelUnavailable

FailureKind = Literal["transport", "server", "bad_response", "request", "timeout", "context", "parse", "error"]
INFRASTRUCTURE: frozenset[str] = frozenset({"transport", "server", "bad_response", "request", "timeout"})
_CONTEXT_WORDS = ("context size", "context length", "context window")


def classify_error(exc: BaseException) -> tuple[FailureKind, str]:
    """(kind, short reason) for an exception raised while predicting one sample."""
    text = " ".join(str(exc).split())
    kind = _kind(exc, text.lower())
    reasons = {"parse": "answer did not parse", "context": "prompt does not fit the server's context window "
               "(refused, not truncated)", "timeout": "request timed out", "transport": "LM unreachable",
               "server": "LM server error", "bad_response": "LM reply is not a chat completion",
               "request": "LM refused the request"}
    reason = reasons.get(kind, type(exc).__name__)
    return kind, reason if kind == "context" else f"{reason}: {text[:200]}"


def _kind(exc: BaseException, text: str) -> FailureKind:
    if isinstance(exc, (AdapterParseError, AnalysisParseError)):
        return "parse"
    if isinstance(exc, (ContextWindowExceededError, llm_errors.ContextWindowExceededError)) or (
            isinstance(exc, (LMInvalidRequestError, llm_errors.BadRequestError, LMRequestError))
            and any(word in text for word in _CONTEXT_WORDS)):
        return "context"
    if isinstance(exc, (LMTimeoutError, llm_errors.Timeout, httpx.TimeoutException, TimeoutError)):
        return "timeout"
    if isinstance(exc, (LMTransportError, llm_errors.APIConnectionError, httpx.TransportError, ConnectionError,
                        ModelUnavailable)):
        return "transport"
    if isinstance(exc, (LMServerError, LMRateLimitError, llm_errors.InternalServerError,
                        llm_errors.ServiceUnavailableError, llm_errors.RateLimitError)):
        return "server"
    if isinstance(exc, (LMInvalidRequestError, LMAuthError, llm_errors.BadRequestError,
                        llm_errors.AuthenticationError, LMRequestError)):
        return "request"
    if isinstance(exc, (LMProviderError, LMUnexpectedError, LMResponseError)):
        return "bad_response"
    return "error"


def is_infrastructure(kind: str | None) -> bool:
    """True for a failure of the LM side, which says nothing about the model."""
    return kind in INFRASTRUCTURE
