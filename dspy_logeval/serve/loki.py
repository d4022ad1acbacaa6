"""Logs from Loki: the API's `{"filters": {...}}` resolved through /loki/api/v1/query_range (httpx only).

Filter values are checked against Kubernetes name rules before they go into the LogQL selector, so a request
cannot inject its own query.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from dspy_logeval.core.errors import LogSourceError
from dspy_logeval.serve.analyzer import LogEntry

K8S_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
QUERY_PATH = "/loki/api/v1/query_range"


class LogFilters(BaseModel):
    """Which logs to fetch: a namespace, optionally one pod and container, over the last SINCE."""

    model_config = ConfigDict(extra="forbid")
    namespace: str = Field(pattern=K8S_NAME)
    pod: str | None = Field(default=None, pattern=K8S_NAME)
    container: str | None = Field(default=None, pattern=K8S_NAME)
    since: str = Field(default="15m", pattern=r"^[1-9][0-9]{0,4}[smhd]$")
    """How far back to look: a number and s, m, h or d (at most 7 days)."""
    limit: int = Field(default=100, ge=1, le=5000)

    def selector(self) -> str:
        """The LogQL stream selector, e.g. {namespace="llm", pod="llama-0"}."""
        labels = {"namespace": self.namespace, "pod": self.pod, "container": self.container}
        return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items() if v) + "}"

    def since_seconds(self) -> int:
        return min(int(self.since[:-1]) * UNITS[self.since[-1]], 7 * 86400)


def build_params(filters: LogFilters, *, now_ns: int | None = None) -> dict[str, Any]:
    """query_range parameters: selector, start/end in nanoseconds, limit, newest first."""
    end = now_ns if now_ns is not None else time.time_ns()
    return {"query": filters.selector(), "start": end - filters.since_seconds() * 1_000_000_000, "end": end,
            "limit": filters.limit, "direction": "backward"}


def parse_streams(data: dict[str, Any]) -> list[LogEntry]:
    """Loki's streams result as LogEntry lines, oldest first."""
    entries: list[tuple[int, LogEntry]] = []
    for stream in data.get("data", {}).get("result", []):
        labels = stream.get("stream", {})
        for ts, line in stream.get("values", []):
            stamp = datetime.fromtimestamp(int(ts) / 1e9, tz=timezone.utc).isoformat().replace("+00:00", "Z")
            entries.append((int(ts), LogEntry(timestamp=stamp, namespace=labels.get("namespace", ""),
                                              pod=labels.get("pod", ""), container=labels.get("container", ""),
                                              node=labels.get("node", labels.get("node_name", "")),
                                              message=str(line))))
    return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]


async def fetch_logs(loki_url: str, filters: LogFilters, *, client: httpx.AsyncClient | None = None,
                     timeout: float = 10.0) -> list[LogEntry]:
    """The log lines FILTERS select in Loki at LOKI_URL; LogSourceError when Loki fails."""
    owned = client is None
    http = client or httpx.AsyncClient(timeout=timeout)
    try:
        response = await http.get(f"{loki_url.rstrip('/')}{QUERY_PATH}", params=build_params(filters))
    except httpx.HTTPError as exc:
        raise LogSourceError(f"cannot reach Loki at {loki_url}: {type(exc).__name__}") from None
    finally:
        if owned:
            await http.aclose()
    if response.status_code != 200:
        raise LogSourceError(f"Loki answered {response.status_code} to {filters.selector()}: "
                             f"{response.text[:160]}")
    try:
        return parse_streams(response.json())
    except (ValueError, TypeError, AttributeError) as exc:
        raise LogSourceError(f"Loki's answer is not a query_range result: {exc}") from None
