"""A fake Loki behind httpx.MockTransport: serves recorded query_range responses the way Loki pages them.

``FakeLoki.from_fixtures()`` loads the recorded responses of tests/fixtures/loki/<namespace>.json; every
request is answered from them honouring ``query`` (the namespace selector and a ``|~`` filter), ``start``
(inclusive), ``end`` (exclusive), ``limit`` and ``direction``, in Loki's JSON format. ``script`` holds canned
responses (e.g. a 429) served before the data, in order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

LOKI_FIXTURES = Path(__file__).parent / "fixtures" / "loki"
Entry = tuple[int, tuple[tuple[str, str], ...], str]


def recorded(name: str) -> dict[str, Any]:
    return json.loads((LOKI_FIXTURES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def loki_response(entries: list[Entry]) -> dict[str, Any]:
    """Entries as a Loki streams response (one stream per label set, values in the given order)."""
    streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
    for ts, labels, line in entries:
        streams.setdefault(labels, []).append([str(ts), line])
    result = [{"stream": dict(labels), "values": values} for labels, values in streams.items()]
    return {"status": "success", "data": {"resultType": "streams", "result": result,
                                          "stats": {"summary": {"totalEntriesReturned": len(entries)}}}}


class FakeLoki:
    """An in-memory Loki: entries by namespace, a request log, and optional scripted responses."""

    def __init__(self, entries: list[Entry], *, script: list[httpx.Response] | None = None) -> None:
        self.by_namespace: dict[str, list[Entry]] = {}
        for entry in sorted(entries, key=lambda e: e[0]):
            self.by_namespace.setdefault(dict(entry[1]).get("namespace", ""), []).append(entry)
        self.script = list(script or [])
        self.requests: list[httpx.Request] = []

    @classmethod
    def from_fixtures(cls, *, script: list[httpx.Response] | None = None) -> FakeLoki:
        entries: list[Entry] = []
        for path in sorted(LOKI_FIXTURES.glob("*.json")):
            if path.stem in {"malformed", "metric-result"}:
                continue
            for stream in recorded(path.name)["data"]["result"]:
                labels = tuple(sorted(stream["stream"].items()))
                entries += [(int(ts), labels, line) for ts, line in stream["values"]]
        return cls(entries, script=script)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)
        assert request.url.path == "/loki/api/v1/query_range"
        params = request.url.params
        query = params["query"]
        namespace = re.search(r'namespace="([^"]+)"', query)
        line_filter = re.search(r'\|~ "((?:[^"\\]|\\.)*)"', query)
        pattern = re.compile(line_filter.group(1).encode().decode("unicode_escape")) if line_filter else None
        start, end, limit = int(params["start"]), int(params["end"]), int(params["limit"])
        found = self.by_namespace.get(namespace.group(1) if namespace else "", [])
        chosen = [e for e in found if start <= e[0] < end and (pattern is None or pattern.search(e[2]))]
        if params.get("direction", "backward") == "backward":
            chosen = chosen[::-1]
        return httpx.Response(200, json=loki_response(chosen[:limit]))
