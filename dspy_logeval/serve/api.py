"""The production API (FastAPI): /v1/analyze, /health, /api/evals/leaderboard, /metrics. No DSPy.

Every failure is a JSON error `{"error": {"code", "message"}}` with a fitting status: 401 missing/wrong token
(when LOGEVAL_API_TOKEN is set), 413 body too large, 422 malformed or too deeply nested JSON / invalid fields /
too many lines or characters, 502 unparseable LM answer, 503 LM or Loki down. Limits are checked before anything
reaches the model. Messages are redacted: an endpoint's credentials never reach a caller. A dead embedded LM
child is restarted (a bounded number of times) by the LMGuard, and /health reports the restarts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from dspy_logeval.core.errors import (
    AnalysisParseError,
    LMRequestError,
    LMResponseError,
    LogSourceError,
    ModelUnavailable,
)
from dspy_logeval.core.redact import redact_url
from dspy_logeval.data.dataset import render_logs
from dspy_logeval.serve.analyzer import AnalysisResult, LogEntry
from dspy_logeval.serve.auth import authorized, token_from_env
from dspy_logeval.serve.loki import LogFilters, fetch_logs

log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)


class Analyzer(Protocol):
    """What the API needs from an analyzer (LogAnalyzer, or a fake in tests)."""

    async def aanalyze(self, logs: list[LogEntry]) -> AnalysisResult: ...

    async def ahealth(self) -> bool: ...

    async def aclose(self) -> None: ...


class LMGuard(Protocol):
    """What the API needs to restart a dead embedded LM child (lm.server.Supervisor, or a fake in tests)."""

    restarts: int

    def alive(self) -> bool: ...

    def exhausted(self) -> bool: ...

    def revive(self) -> bool: ...


@dataclass(frozen=True)
class Limits:
    """Request limits, checked before the model sees anything."""

    max_body_bytes: int = 1 << 20
    max_lines: int = 200
    max_chars: int = 64_000


class AnalyzeRequest(BaseModel):
    """Either the log lines themselves or Loki filters (when LOKI_URL is set)."""

    model_config = ConfigDict(extra="forbid")
    logs: list[LogEntry] | None = None
    filters: LogFilters | None = None

    @model_validator(mode="after")
    def _one_source(self) -> AnalyzeRequest:
        if (self.logs is None) == (self.filters is None):
            raise ValueError("give either 'logs' (a list of log entries) or 'filters', not both or neither")
        if self.logs is not None and not self.logs:
            raise ValueError("'logs' is empty: send at least one log entry")
        return self


class ApiError(Exception):
    """An error answer: HTTP status, a short code and a message for the caller."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class ApiMetrics:
    """Prometheus series of this app, on its own registry (two apps in one process do not collide)."""

    def __init__(self, prompt_meta: dict[str, Any]) -> None:
        self.registry = CollectorRegistry()
        self.labels = {"prompt_name": str(prompt_meta.get("name")), "prompt_version": str(prompt_meta.get("version"))}
        names = list(self.labels)
        self.requests = Counter("logeval_analyze_requests", "Analyze requests by HTTP status.",
                                [*names, "status"], registry=self.registry)
        self.errors = Counter("logeval_analyze_errors", "Failed analyze requests by error code.",
                              [*names, "code"], registry=self.registry)
        self.latency = Histogram("logeval_analyze_latency_seconds", "Time to answer a successful analyze request.",
                                 names, buckets=LATENCY_BUCKETS, registry=self.registry)
        self.parse_failures = Counter("logeval_analyze_parse_failures", "LM answers that did not fit the schema.",
                                      names, registry=self.registry)
        self.tokens = Counter("logeval_analyze_tokens", "Tokens used by successful requests.",
                              [*names, "kind"], registry=self.registry)

    def observe(self, status: int, *, code: str | None = None, result: AnalysisResult | None = None) -> None:
        self.requests.labels(**self.labels, status=str(status)).inc()
        if code:
            self.errors.labels(**self.labels, code=code).inc()
            if code == "unparseable_answer":
                self.parse_failures.labels(**self.labels).inc()
        if result is not None:
            self.latency.labels(**self.labels).observe(result.latency_ms / 1000)
            for kind, count in result.tokens.items():
                self.tokens.labels(**self.labels, kind=kind).inc(count)


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, refused with 413 as soon as it passes the limit (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise ApiError(413, "body_too_large", f"request body is {int(declared)} bytes; the limit is "
                                              f"{limits.max_body_bytes}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise ApiError(413, "body_too_large", f"request body is over the {limits.max_body_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_request(body: bytes) -> AnalyzeRequest:
    """The body as an AnalyzeRequest, or a 422 naming the problem."""
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(422, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(422, "malformed_json", "the body nests JSON too deeply to parse; a request is "
                                              "{\"logs\": [{\"timestamp\", \"message\", ...}]}") from None
    try:
        return AnalyzeRequest.model_validate(raw)
    except RecursionError:
        raise ApiError(422, "invalid_request", "the body nests too deeply to validate") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise ApiError(422, "invalid_request", problems) from None


def check_limits(logs: list[LogEntry], limits: Limits) -> None:
    """422 when the logs have more lines or characters than the model should get."""
    if len(logs) > limits.max_lines:
        raise ApiError(422, "too_many_lines", f"{len(logs)} log lines; the limit is {limits.max_lines}")
    chars = len(render_logs(list(logs)))
    if chars > limits.max_chars:
        raise ApiError(422, "too_many_characters", f"the logs render to {chars} characters; the limit is "
                                                   f"{limits.max_chars}")


async def resolve_logs(payload: AnalyzeRequest, *, loki_url: str | None,
                       loki_client: httpx.AsyncClient | None) -> list[LogEntry]:
    """The request's own logs, or the lines its filters select in Loki."""
    if payload.logs is not None:
        return payload.logs
    assert payload.filters is not None
    if not loki_url:
        raise ApiError(422, "filters_unsupported", "'filters' needs the server to run with LOKI_URL set; "
                                                   "send 'logs' instead")
    try:
        logs = await fetch_logs(loki_url, payload.filters, client=loki_client)
    except LogSourceError as exc:
        raise ApiError(503, "loki_unavailable", str(exc)) from None
    if not logs:
        raise ApiError(422, "no_logs", f"Loki has no lines for {payload.filters.selector()} in the last "
                                       f"{payload.filters.since}")
    return logs


async def run_analysis(analyzer: Analyzer, logs: list[LogEntry], guard: LMGuard | None = None) -> AnalysisResult:
    """analyzer.aanalyze with its errors mapped to HTTP answers; a dead LM child is restarted first (GUARD), and
    a request that failed because the child died is sent once more to the restarted one."""
    if guard is not None and not guard.alive():
        await asyncio.to_thread(guard.revive)
    try:
        return await analyzer.aanalyze(logs)
    except ModelUnavailable as exc:
        if guard is not None and not guard.alive() and await asyncio.to_thread(guard.revive):
            return await run_analysis(analyzer, logs)
        raise ApiError(503, "lm_unavailable", str(exc)) from None
    except AnalysisParseError as exc:
        raise ApiError(502, "unparseable_answer", str(exc)) from None
    except LMResponseError as exc:
        raise ApiError(502, "lm_bad_response", str(exc)) from None
    except LMRequestError as exc:
        raise ApiError(422, "lm_refused", str(exc)) from None


def read_leaderboard_file(path: Path) -> dict[str, Any]:
    """leaderboard.json as served: {format_version, updated, rows}; empty before the first run."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"format_version": 1, "updated": None, "rows": []}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(503, "leaderboard_unreadable", f"{path.name} is not valid JSON: {exc}") from None
    return data if isinstance(data, dict) else {"format_version": 1, "updated": None, "rows": list(data)}


def require_token(request: Request, token: str | None) -> None:
    """401 unless the request carries `Authorization: Bearer TOKEN` (no check when TOKEN is None)."""
    if token is not None and not authorized(request.headers.get("authorization"), token):
        raise ApiError(401, "unauthorized", "send the API token as 'Authorization: Bearer <token>'",
                       headers={"WWW-Authenticate": "Bearer"})


async def health_answer(analyzer: Analyzer, guard: LMGuard | None) -> tuple[dict[str, Any], int]:
    """(/health body, status): ok, degraded (LM down, restarts left) or lm_unavailable; restarts so far."""
    child_up = guard is None or await asyncio.to_thread(guard.revive)
    lm_ok = child_up and await analyzer.ahealth()
    body: dict[str, Any] = {"status": "ok" if lm_ok else "lm_unavailable", "lm": lm_ok}
    if guard is not None:
        body["lm_restarts"] = guard.restarts
        if not lm_ok and not guard.exhausted():
            body["status"] = "degraded"
    return body, 200 if lm_ok else 503


def create_app(analyzer: Analyzer, prompt_meta: dict[str, Any], *, leaderboard_path: Path,
               limits: Limits = Limits(), loki_url: str | None = None,
               loki_client: httpx.AsyncClient | None = None, api_token: str | None = None,
               lm_guard: LMGuard | None = None) -> FastAPI:
    """The production API around ANALYZER.

    Args:
        analyzer: a LogAnalyzer (or anything with aanalyze/ahealth).
        prompt_meta: {"name", "version", "source_run"} of the prompt artifact, echoed in answers and metrics.
        leaderboard_path: artifacts/leaderboard.json, served at /api/evals/leaderboard.
        limits: body size, log lines and characters per request.
        loki_url: Loki base URL for `filters` requests (default: env LOKI_URL).
        loki_client: an httpx.AsyncClient for Loki (tests inject a mock transport).
        api_token: bearer token /v1/analyze and the leaderboard require (default: env LOGEVAL_API_TOKEN; unset:
            open). /health and /metrics stay open.
        lm_guard: restarts a dead embedded LM child (serve passes the endpoint's Supervisor; None: no restarts).
    """
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await analyzer.aclose()

    app = FastAPI(title="dspy-logeval production analyzer", version="1", lifespan=lifespan)
    metrics = ApiMetrics(prompt_meta)
    loki = loki_url if loki_url is not None else os.environ.get("LOKI_URL") or None
    token = (api_token if api_token is not None else token_from_env()) or None  # '' or unset: open

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if request.url.path == "/v1/analyze":
            metrics.observe(exc.status, code=exc.code)
        return JSONResponse({"error": {"code": exc.code, "message": redact_url(exc.message)}},
                            status_code=exc.status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # Every expected failure is an ApiError above; this is a bug, kept visible in the log.
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"error": {"code": "internal_error", "message": type(exc).__name__}}, status_code=500)

    @app.post("/v1/analyze")
    async def analyze(request: Request) -> JSONResponse:
        require_token(request, token)
        payload = parse_request(await read_body(request, limits))
        logs = await resolve_logs(payload, loki_url=loki, loki_client=loki_client)
        check_limits(logs, limits)
        result = await run_analysis(analyzer, logs, lm_guard)
        metrics.observe(200, result=result)
        return JSONResponse({"analysis": result.analysis.model_dump(), "prompt": prompt_meta,
                             "latency_ms": result.latency_ms, "tokens": result.tokens})

    @app.get("/health")
    async def health() -> JSONResponse:
        body, status = await health_answer(analyzer, lm_guard)
        return JSONResponse(body | {"prompt": prompt_meta}, status_code=status)

    @app.get("/api/evals/leaderboard")
    async def leaderboard(request: Request) -> JSONResponse:
        require_token(request, token)
        return JSONResponse(read_leaderboard_file(leaderboard_path))

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
