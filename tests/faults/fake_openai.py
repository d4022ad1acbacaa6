"""A small local OpenAI-compatible server (/health, /v1/chat/completions) for fault tests, no model.

In a thread: `with FakeOpenAI(fail_when="marker") as lm: lm.url`. As a child process (an EmbeddedServer's
stand-in): `python fake_openai.py PORT`.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

ANSWER = {"root_cause": "normal_operation", "severity": "info", "component": "kube-system/coredns",
          "summary": "Nothing is wrong.", "action_needed": "ignore"}


class FakeOpenAI:
    """Answers every chat completion with ANSWER, or 503 when the request body contains FAIL_WHEN."""

    def __init__(self, *, fail_when: str | None = None, port: int = 0) -> None:
        self.fail_when = fail_when
        self.auth_headers: list[str | None] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send(200, {"status": "ok"} if self.path == "/health" else {"data": [{"id": "fake"}]})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            fake.auth_headers.append(self.headers.get("authorization"))
            if fake.fail_when and fake.fail_when in body:
                self._send(503, {"error": {"message": "loading model"}})
                return
            self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": "fake",
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": json.dumps(ANSWER)}}],
                             "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})

    return Handler


if __name__ == "__main__":
    FakeOpenAI(port=int(sys.argv[1])).server.serve_forever()
