"""The production log analyzer: a prompt artifact sent over httpx to an OpenAI-compatible server, without DSPy.

Imports httpx, pydantic and dspy-free project modules only (a test imports it with dspy blocked), so the
service that answers real traffic stays small. The request it sends is the one the DSPy program sent:
the artifact's messages with the rendered logs in place of `{{logs}}`, its sampling parameters and its
JSON schema as `response_format`.

Example:
    analyzer = LogAnalyzer("http://localhost:8080", "smollm2-135m-instruct",
                           AnalyzerSettings.from_sampling(artifact.sampling), artifact)
    result = analyzer.analyze([LogEntry(timestamp="...", namespace="llm", pod="p", container="c", message="...")])
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from dspy_logeval.core.errors import AnalysisParseError, LMRequestError, LMResponseError, ModelUnavailable
from dspy_logeval.data.dataset import LogLine, render_logs
from dspy_logeval.data.retrieval import TfidfIndex
from dspy_logeval.data.taxonomy import load_taxonomy
from dspy_logeval.serve.prompt_artifact import LABEL_FIELDS, PromptArtifact, Sampling, Stage

__all__ = ["Analysis", "AnalysisResult", "AnalyzerSettings", "Exchange", "LogAnalyzer", "LogEntry", "PromptArtifact"]
log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
CHAT_PATH = "/v1/chat/completions"


class LogEntry(LogLine):
    """One log line as a client or Loki sends it; only timestamp and message are required."""

    model_config = ConfigDict(extra="ignore")
    namespace: str = ""
    pod: str = ""
    container: str = ""


class Analysis(BaseModel):
    """The model's answer; label fields must be in the artifact's schema enums (or the taxonomy)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    root_cause: str
    severity: str
    component: str
    summary: str
    action_needed: str
    reasoning: str | None = None

    @model_validator(mode="after")
    def _labels_known(self, info: ValidationInfo) -> Analysis:
        labels = (info.context or {}).get("labels") or _taxonomy_labels()
        for name, allowed in labels.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} {getattr(self, name)!r} is not a taxonomy label")
        return self

    def labels(self) -> dict[str, str]:
        """The five label fields, as results.jsonl's `predicted` holds them."""
        return self.model_dump(exclude={"reasoning"})


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise AnalysisParseError(f"the LM answer is not JSON ({exc}): {text[:120]!r}") from None
    if not isinstance(data, dict):
        raise AnalysisParseError(f"the LM answer is JSON but not an object: {text[:120]!r}")
    return data


def _note(exchanges: list[Exchange] | None, messages: list[dict[str, str]], completion: Completion) -> None:
    if exchanges is not None:
        exchanges.append(Exchange(messages, completion.content))


def _taxonomy_labels() -> dict[str, tuple[str, ...]]:
    tax = load_taxonomy()
    return {name: getattr(tax, attr) for name, attr in LABEL_FIELDS.items()}


class AnalyzerSettings(Sampling):
    """The artifact's sampling parameters plus how long to wait and how often to retry."""

    timeout: float = Field(default=120.0, gt=0)
    """Seconds before one request is abandoned."""
    retries: int = Field(default=2, ge=0, le=10)
    """Retries on connect errors, 429 and 5xx, with exponential backoff."""
    backoff: float = Field(default=0.5, ge=0)
    """First backoff in seconds; doubled after each retry."""

    @classmethod
    def from_sampling(cls, sampling: Sampling, **overrides: Any) -> AnalyzerSettings:
        """The artifact's sampling parameters, with OVERRIDES (timeout, retries, temperature...)."""
        return cls(**{**sampling.model_dump(), **overrides})

    def sampling(self) -> dict[str, Any]:
        return self.model_dump(exclude={"timeout", "retries", "backoff"})


@dataclass(frozen=True)
class Completion:
    """The text and token usage of one chat completion."""

    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Exchange:
    """One request the analyzer sent (its messages) and the answer text that came back, before parsing."""

    messages: list[dict[str, str]]
    content: str


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis with what it cost."""

    analysis: Analysis
    latency_ms: float
    tokens: dict[str, int] = field(default_factory=dict)


class LogAnalyzer:
    """Send a prompt artifact's request for some logs and parse the answer."""

    def __init__(self, llm_url: str, model_name: str, config: AnalyzerSettings, prompt: PromptArtifact, *,
                 client: httpx.Client | None = None, async_client: httpx.AsyncClient | None = None,
                 api_key: str | None = None) -> None:
        self.llm_url = llm_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model_name = model_name
        self.config = config
        self.prompt = prompt
        self._client = client
        self._async_client = async_client
        self._owns_async = False
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._index: TfidfIndex | None = None

    def _sync(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.config.timeout, headers=self._headers)
        return self._client

    def _async(self) -> httpx.AsyncClient:
        # A client's pooled connections belong to the event loop that opened them: one owned client per loop.
        loop = asyncio.get_running_loop()
        if self._async_client is None or (self._owns_async and self._async_loop is not loop):
            self._async_client = httpx.AsyncClient(timeout=self.config.timeout, headers=self._headers)
            self._owns_async, self._async_loop = True, loop
        return self._async_client

    def _text(self, logs: str | Sequence[LogLine]) -> str:
        return logs if isinstance(logs, str) else render_logs(list(logs))

    def build_prompt(self, logs: str | Sequence[LogLine]) -> list[dict[str, str]]:
        """The artifact's messages with LOGS (rendered like the golden set) in place of the placeholder, and,
        for a retrieval artifact, the K most similar pool demos (least similar first) as the knn program picks
        them."""
        text = self._text(logs)
        retrieval = self.prompt.retrieval
        if retrieval is None:
            return self.prompt.render(text)
        if self._index is None:
            self._index = TfidfIndex([demo.logs for demo in retrieval.pool])
        order = self._index.nearest(text, retrieval.k)
        return self.prompt.render(text, demos=[retrieval.pool[i] for i in reversed(order)])

    def request_body(self, messages: list[dict[str, str]], response_format: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
        """The chat-completions body: messages, sampling parameters and the JSON-schema response_format."""
        return {"model": self.model_name, "messages": messages, **self.config.sampling(),
                "response_format": response_format or self.prompt.response_format}

    def call_llm(self, messages: list[dict[str, str]], response_format: dict[str, Any] | None = None) -> Completion:
        """POST the messages, retrying transient failures; raise ModelUnavailable or LMRequestError."""
        body, reason = self.request_body(messages, response_format), ""
        for attempt in range(self.config.retries + 1):
            if attempt:
                time.sleep(self.config.backoff * 2 ** (attempt - 1))
            try:
                response = self._sync().post(f"{self.llm_url}{CHAT_PATH}", json=body)
            except httpx.TimeoutException as exc:
                raise self._timeout(exc) from None
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
                continue
            outcome = self._outcome(response)
            if isinstance(outcome, Completion):
                return outcome
            reason = outcome
        raise self._unavailable(reason)

    async def acall_llm(self, messages: list[dict[str, str]], response_format: dict[str, Any] | None = None
                        ) -> Completion:
        """call_llm on the async client, for the API."""
        body, reason = self.request_body(messages, response_format), ""
        for attempt in range(self.config.retries + 1):
            if attempt:
                await asyncio.sleep(self.config.backoff * 2 ** (attempt - 1))
            try:
                response = await self._async().post(f"{self.llm_url}{CHAT_PATH}", json=body)
            except httpx.TimeoutException as exc:
                raise self._timeout(exc) from None
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
                continue
            outcome = self._outcome(response)
            if isinstance(outcome, Completion):
                return outcome
            reason = outcome
        raise self._unavailable(reason)

    def _outcome(self, response: httpx.Response) -> Completion | str:
        """The completion, or the reason to retry; a refused request raises LMRequestError at once."""
        if response.status_code in RETRY_STATUS:
            return f"HTTP {response.status_code}: {response.text[:160]}"
        if response.status_code >= 400:
            raise LMRequestError(f"the LM at {self.llm_url} refused the request with HTTP {response.status_code}: "
                                 f"{response.text[:200]}")
        try:
            data = response.json()
            usage = data.get("usage") or {}
            return Completion(str(data["choices"][0]["message"]["content"]), int(usage.get("prompt_tokens") or 0),
                              int(usage.get("completion_tokens") or 0))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LMResponseError(f"the LM at {self.llm_url} sent no chat completion ({exc!r})") from None

    def _unavailable(self, reason: str) -> ModelUnavailable:
        return ModelUnavailable(f"the LM at {self.llm_url} is unavailable after {self.config.retries + 1} "
                                f"attempt(s): {reason}")

    def _timeout(self, exc: Exception) -> ModelUnavailable:
        # Not retried: a slow model that is still working would only get a second copy of the same request.
        return ModelUnavailable(f"the LM at {self.llm_url} did not answer within {self.config.timeout:.0f} s "
                                f"({type(exc).__name__})")

    def parse_response(self, text: str, *, stage: Stage | None = None) -> Analysis:
        """The Analysis in TEXT, or AnalysisParseError saying why it is not one."""
        data = _json_object(text)
        try:
            return Analysis.model_validate(data, context={"labels": (stage or self.prompt).labels()})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "answer"
            raise AnalysisParseError(f"the LM answer does not fit the schema: {where}: {err['msg']}") from None

    def analyze(self, logs: str | Sequence[LogLine], *, exchanges: list[Exchange] | None = None) -> AnalysisResult:
        """Analyze LOGS: build the prompt, call the LM, parse its answer (two requests for a staged artifact).

        EXCHANGES, when given, receives each request's messages and raw answer as it completes, so a caller
        sees what was sent and answered even when parsing the answer then fails (the evaluation records it).
        """
        started = time.perf_counter()
        messages = self.build_prompt(logs)
        completion = self.call_llm(messages)
        _note(exchanges, messages, completion)
        if self.prompt.stages is None:
            return self._result(completion, started)
        stage = self.next_stage(completion.content)
        messages = stage.render(self._text(logs))
        second = self.call_llm(messages, stage.response_format)
        _note(exchanges, messages, second)
        return self._result(second, started, stage=stage, first=completion)

    async def aanalyze(self, logs: str | Sequence[LogLine]) -> AnalysisResult:
        """analyze() on the async client."""
        started = time.perf_counter()
        completion = await self.acall_llm(self.build_prompt(logs))
        if self.prompt.stages is None:
            return self._result(completion, started)
        stage = self.next_stage(completion.content)
        second = await self.acall_llm(stage.render(self._text(logs)), stage.response_format)
        return self._result(second, started, stage=stage, first=completion)

    def next_stage(self, text: str) -> Stage:
        """The stage a staged artifact's first answer (the category) selects."""
        category = _json_object(text).get("category")
        stages = self.prompt.stages.by_category if self.prompt.stages else {}
        if category not in stages:
            raise AnalysisParseError(f"the LM answered category {category!r}, which has no stage in the artifact")
        return stages[str(category)]

    def _result(self, completion: Completion, started: float, *, stage: Stage | None = None,
                first: Completion | None = None) -> AnalysisResult:
        analysis = self.parse_response(completion.content, stage=stage)
        earlier = first or Completion("", 0, 0)
        return AnalysisResult(analysis, round((time.perf_counter() - started) * 1000, 2),
                              {"prompt_tokens": completion.prompt_tokens + earlier.prompt_tokens,
                               "completion_tokens": completion.completion_tokens + earlier.completion_tokens})

    async def ahealth(self) -> bool:
        """True when the LM server's /health answers 200."""
        try:
            response = await self._async().get(f"{self.llm_url}/health", timeout=5.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def close(self) -> None:
        """Close the sync client (the async one is closed by aclose)."""
        if self._client is not None:
            self._client.close()

    async def aclose(self) -> None:
        """Close the async client (the API calls it at shutdown)."""
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None
