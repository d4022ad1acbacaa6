"""A paging, retrying client of Loki's `GET /loki/api/v1/query_range` for bulk extraction (httpx only).

A long range is cut into windows no longer than the plan's ``paging.max_window`` (below the server's
``max_query_length``); each window is read oldest first in pages of ``paging.page_size`` entries (at most the
server's ``max_entries_limit_per_query``). The next page starts at the last timestamp of the previous one,
and entries already seen at that timestamp are skipped, as logcli does. 429, 5xx and transport errors are
retried with exponential backoff; everything else becomes one LogSourceError line.

Credentials come from the environment only (LOKI_USERNAME/LOKI_PASSWORD, LOKI_TOKEN, LOKI_TENANT) and never
appear in an error message or an output file.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import httpx

from dspy_logeval.core.errors import LogSourceError
from dspy_logeval.data.extract.plan import PagingConfig, duration_seconds

__all__ = ["QUERY_PATH", "LokiAuth", "LokiClient", "LokiEntry", "public_url"]

QUERY_PATH = "/loki/api/v1/query_range"
RETRIABLE = {429, 500, 502, 503, 504}
NS = 1_000_000_000
AUTH_HINT = "set LOKI_USERNAME and LOKI_PASSWORD, or LOKI_TOKEN (and LOKI_TENANT for a multi-tenant Loki)"


class LokiEntry(NamedTuple):
    """One log line: nanosecond timestamp, its stream's labels (sorted pairs, shared per stream), the line."""

    ts: int
    stream: tuple[tuple[str, str], ...]
    line: str


@dataclass(frozen=True)
class LokiAuth:
    """Basic auth, a bearer token and/or a tenant (X-Scope-OrgID), read from the environment."""

    username: str | None = None
    password: str | None = None
    token: str | None = None
    tenant: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LokiAuth:
        """LOKI_USERNAME/LOKI_PASSWORD, LOKI_TOKEN and LOKI_TENANT; unset or empty variables are None."""
        env = os.environ if env is None else env
        return cls(**{field: env.get(f"LOKI_{field.upper()}") or None
                      for field in ("username", "password", "token", "tenant")})

    def headers(self) -> dict[str, str]:
        """Request headers: Authorization (bearer or basic) and X-Scope-OrgID."""
        headers: dict[str, str] = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.username:
            pair = f"{self.username}:{self.password or ''}".encode()
            headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
        if self.tenant:
            headers["X-Scope-OrgID"] = self.tenant
        return headers

    def describe(self) -> str:
        """What is in use, without any secret, e.g. 'basic auth as alice, tenant homelab'."""
        parts = ["bearer token" if self.token else f"basic auth as {self.username}" if self.username
                 else "no credentials"]
        if self.tenant:
            parts.append(f"tenant {self.tenant}")
        return ", ".join(parts)


def public_url(url: str) -> str:
    """URL without any user:password@ part, safe to print and to record."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


class LokiClient:
    """query_range over a whole time range: windows, pages, retries, one-line errors."""

    def __init__(self, base_url: str, *, auth: LokiAuth | None = None, paging: PagingConfig | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = public_url(base_url)
        if not urlsplit(self.url).scheme.startswith("http") or not urlsplit(self.url).hostname:
            raise LogSourceError(f"--loki {self.url!r} is not an http(s) URL, e.g. http://localhost:3100")
        self.auth = auth or LokiAuth()
        self.paging = paging or PagingConfig()
        self._sleep = sleep
        self._http = httpx.Client(base_url=self.url, headers=self.auth.headers(), transport=transport,
                                  timeout=self.paging.timeout_seconds)

    def __enter__(self) -> LokiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def entries(self, query: str, *, start_ns: int, end_ns: int, max_lines: int) -> Iterator[list[LokiEntry]]:
        """Pages of new entries of QUERY in [start_ns, end_ns), oldest first, until MAX_LINES are yielded."""
        window = duration_seconds(self.paging.max_window) * NS
        pulled = 0
        for w_start in range(start_ns, end_ns, window):
            for page in self._window(query, start_ns=w_start, end_ns=min(w_start + window, end_ns)):
                page = page[: max_lines - pulled]
                pulled += len(page)
                yield page
                if pulled >= max_lines:
                    return

    def _window(self, query: str, *, start_ns: int, end_ns: int) -> Iterator[list[LokiEntry]]:
        """One window, page by page; a page restarts at the previous page's last timestamp (inclusive)."""
        cursor = start_ns
        seen: set[LokiEntry] = set()
        while cursor < end_ns:
            entries = self.query_range(query, start_ns=cursor, end_ns=end_ns, limit=self.paging.page_size)
            fresh = [e for e in entries if e not in seen]
            if fresh:
                yield fresh
            if len(entries) < self.paging.page_size:
                return
            last = entries[-1].ts
            if not fresh:  # a full page of one timestamp, all seen: step past it
                cursor, seen = last + 1, set()
                continue
            seen = {e for e in entries if e.ts == last} | (seen if last == cursor else set())
            cursor = last

    def query_range(self, query: str, *, start_ns: int, end_ns: int, limit: int) -> list[LokiEntry]:
        """One query_range call (direction forward), as entries sorted by timestamp."""
        params = {"query": query, "start": str(start_ns), "end": str(end_ns), "limit": str(limit),
                  "direction": "forward"}
        return parse_streams(self._get(params), query=query)

    def _get(self, params: dict[str, str]) -> dict[str, Any]:
        query = params["query"]
        for attempt in range(self.paging.retries + 1):
            last_try = attempt == self.paging.retries
            try:
                response = self._http.get(QUERY_PATH, params=params)
            except httpx.TransportError as exc:
                if last_try:
                    raise LogSourceError(f"cannot reach Loki at {self.url}: {type(exc).__name__} "
                                         f"(after {attempt} retries)") from None
                self._sleep(self._backoff(attempt, None))
                continue
            if response.status_code in RETRIABLE and not last_try:
                self._sleep(self._backoff(attempt, response.headers.get("Retry-After")))
                continue
            return self._checked_json(response, query=query, retries=attempt)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), 60.0)
        return float(self.paging.backoff_seconds * 2**attempt)

    def _checked_json(self, response: httpx.Response, *, query: str, retries: int) -> dict[str, Any]:
        status, body = response.status_code, _clip(response.text)
        if status in (401, 403):
            raise LogSourceError(f"Loki at {self.url} refused the credentials ({status}: {body or 'no body'}); "
                                 f"{AUTH_HINT} (now: {self.auth.describe()})")
        if status in RETRIABLE:
            raise LogSourceError(f"Loki at {self.url} answered {status} after {retries} retries: {body}")
        if status != 200:
            raise LogSourceError(f"Loki at {self.url} rejected {query!r} ({status}: {body}){_hint(body)}")
        try:
            data = response.json()
        except ValueError:
            raise LogSourceError(f"Loki's answer to {query!r} is not JSON ({body[:60]!r}…): is {self.url} "
                                 "a Loki server?") from None
        return data if isinstance(data, dict) else {"status": "not an object"}


def parse_streams(data: dict[str, Any], *, query: str) -> list[LokiEntry]:
    """A query_range streams result as entries sorted by timestamp; LogSourceError for any other shape."""
    payload = data.get("data")
    if data.get("status") != "success" or not isinstance(payload, dict):
        raise LogSourceError(f"Loki's answer to {query!r} is not a successful query_range result "
                             f"(status {data.get('status')!r})")
    if payload.get("resultType") != "streams":
        raise LogSourceError(f"Loki answered {query!r} with resultType {payload.get('resultType')!r}, not "
                             "'streams': the plan's queries must be log queries, not metric queries")
    entries: list[LokiEntry] = []
    try:
        for stream in payload.get("result") or []:
            labels = tuple(sorted((str(k), str(v)) for k, v in (stream.get("stream") or {}).items()))
            entries.extend(LokiEntry(int(ts), labels, str(line)) for ts, line, *_ in stream.get("values") or [])
    except (AttributeError, TypeError, ValueError) as exc:
        raise LogSourceError(f"Loki's answer to {query!r} has a malformed stream: {exc}") from None
    entries.sort(key=lambda e: e.ts)
    return entries


def _clip(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _hint(body: str) -> str:
    lowered = body.lower()
    if "max entries" in lowered or "max_entries_limit" in lowered:
        return "; lower paging.page_size in the plan to the server's max_entries_limit_per_query"
    if "query length" in lowered or "time range exceeds" in lowered:
        return "; lower paging.max_window in the plan below the server's max_query_length"
    if "parse error" in lowered:
        return "; fix the namespace's selector or line_filter in the plan"
    return ""
