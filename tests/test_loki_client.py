"""LokiClient against recorded query_range responses (httpx.MockTransport): pages, windows, retries, errors."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
from fake_loki import LOKI_FIXTURES, FakeLoki, recorded

from dspy_logeval.core.errors import LogSourceError
from dspy_logeval.data.extract.loki_client import LokiAuth, LokiClient, public_url
from dspy_logeval.data.extract.plan import PagingConfig

NS = 1_000_000_000
ALL_KUBE_SYSTEM = sum(len(s["values"]) for s in recorded("kube-system.json")["data"]["result"])


def _range() -> tuple[int, int]:
    stamps = [int(v[0]) for s in recorded("kube-system.json")["data"]["result"] for v in s["values"]]
    return min(stamps) - 3600 * NS, max(stamps) + 3600 * NS


def _client(handler: Callable[[httpx.Request], httpx.Response] | httpx.MockTransport, *,
            sleeps: list[float] | None = None, **paging: object) -> LokiClient:
    transport = handler if isinstance(handler, httpx.MockTransport) else httpx.MockTransport(handler)
    record = sleeps if sleeps is not None else []
    return LokiClient("http://loki:3100", paging=PagingConfig.model_validate(paging), transport=transport,
                      sleep=record.append)


def _pull(client: LokiClient, query: str = '{namespace="kube-system"}') -> list[list[object]]:
    start, end = _range()
    return [list(page) for page in client.entries(query, start_ns=start, end_ns=end, max_lines=10_000)]


def test_pages_follow_the_last_timestamp_without_losing_or_repeating_lines() -> None:
    fake = FakeLoki.from_fixtures()
    pages = _pull(_client(fake.transport(), page_size=4))
    lines = [entry for page in pages for entry in page]
    assert len(pages) >= 4 and len(lines) == ALL_KUBE_SYSTEM == len(set(lines))
    starts = [int(r.url.params["start"]) for r in fake.requests]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert {r.url.params["limit"] for r in fake.requests} == {"4"}
    assert {r.url.params["direction"] for r in fake.requests} == {"forward"}


def test_a_long_range_is_split_into_windows_of_max_window() -> None:
    fake = FakeLoki.from_fixtures()
    start, end = _range()
    client = _client(fake.transport(), max_window="1h")
    list(client.entries('{namespace="llm"}', start_ns=start, end_ns=end, max_lines=100))
    spans = [int(r.url.params["end"]) - int(r.url.params["start"]) for r in fake.requests]
    assert len(spans) >= 2 and max(spans) <= 3600 * NS


def test_max_lines_stops_pulling() -> None:
    start, end = _range()
    client = _client(FakeLoki.from_fixtures().transport(), page_size=3)
    pages = list(client.entries('{namespace="kube-system"}', start_ns=start, end_ns=end, max_lines=5))
    assert sum(len(p) for p in pages) == 5


def test_429_is_retried_with_backoff_then_succeeds() -> None:
    busy = httpx.Response(429, text=(LOKI_FIXTURES / "too-many-requests.txt").read_text())
    down = httpx.Response(503, text="upstream connect error", headers={"Retry-After": "2"})
    fake = FakeLoki.from_fixtures(script=[busy, down])
    sleeps: list[float] = []
    lines = [e for page in _pull(_client(fake.transport(), sleeps=sleeps, backoff_seconds=0.5)) for e in page]
    assert len(lines) == ALL_KUBE_SYSTEM
    assert sleeps == [0.5, 2.0]


def test_retries_exhausted_is_one_line() -> None:
    client = _client(lambda r: httpx.Response(429, text="too many outstanding requests\n"), retries=2)
    with pytest.raises(LogSourceError, match=r"answered 429 after 2 retries: too many outstanding requests$"):
        _pull(client)


def test_401_names_the_env_vars_and_never_the_secret() -> None:
    auth = LokiAuth(username="alice", password="s3cret-pw", tenant="homelab")
    client = LokiClient("http://loki:3100", auth=auth, transport=httpx.MockTransport(
        lambda r: httpx.Response(401, text=(LOKI_FIXTURES / "unauthorized.txt").read_text())))
    with pytest.raises(LogSourceError) as err:
        _pull(client)
    message = str(err.value)
    assert "refused the credentials (401: no org id)" in message and "LOKI_TOKEN" in message
    assert "basic auth as alice, tenant homelab" in message and "s3cret-pw" not in message
    assert "\n" not in message


def test_transport_errors_are_retried_then_reported() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sleeps: list[float] = []
    with pytest.raises(LogSourceError, match="cannot reach Loki at http://loki:3100: ConnectError"):
        _pull(_client(refuse, sleeps=sleeps, retries=3))
    assert sleeps == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(("response", "expected"), [
    (httpx.Response(200, text=(LOKI_FIXTURES / "malformed.json").read_text()), "is not JSON"),
    (httpx.Response(200, json=recorded("metric-result.json")), "resultType 'matrix'"),
    (httpx.Response(200, json={"status": "error", "error": "boom"}), "not a successful query_range result"),
    (httpx.Response(200, json={"status": "success", "data": {"resultType": "streams", "result": [
        {"stream": {}, "values": [["not-a-number", "x"]]}]}}), "malformed stream"),
    (httpx.Response(400, text="max entries limit per query exceeded, limit > max_entries_limit (10000 > 5000)"),
     "lower paging.page_size"),
    (httpx.Response(400, text="parse error at line 1, col 2: syntax error"), "fix the namespace's selector"),
])
def test_bad_answers_are_one_clear_line(response: httpx.Response, expected: str) -> None:
    with pytest.raises(LogSourceError, match=expected) as err:
        _pull(_client(lambda r: response))
    assert "\n" not in str(err.value)


def test_empty_result_is_no_pages() -> None:
    assert _pull(_client(lambda r: httpx.Response(200, json=recorded("empty.json")))) == []


def test_auth_headers_from_env() -> None:
    basic = LokiAuth.from_env({"LOKI_USERNAME": "bob", "LOKI_PASSWORD": "pw", "LOKI_TENANT": "t1"})
    assert basic.headers() == {"Authorization": "Basic " + base64.b64encode(b"bob:pw").decode(),
                               "X-Scope-OrgID": "t1"}
    assert LokiAuth.from_env({"LOKI_TOKEN": "tok", "LOKI_USERNAME": ""}).headers() == {
        "Authorization": "Bearer tok"}
    assert LokiAuth.from_env({}).headers() == {}


def test_headers_reach_loki() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=recorded("empty.json"))

    client = LokiClient("http://loki:3100", auth=LokiAuth(token="tok", tenant="t1"),
                        transport=httpx.MockTransport(handler))
    _pull(client)
    assert seen[0].headers["authorization"] == "Bearer tok" and seen[0].headers["x-scope-orgid"] == "t1"


def test_public_url_drops_credentials_and_bad_urls_are_refused() -> None:
    assert public_url("https://user:pw@loki.example:3100/") == "https://loki.example:3100"
    with pytest.raises(LogSourceError, match="is not an http"):
        LokiClient("loki:3100")
