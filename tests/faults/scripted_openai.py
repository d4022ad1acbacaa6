"""A small OpenAI-compatible server on loopback whose answers a test scripts: valid, HTML, 501, hang, slow."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conftest import VALID_ANALYSIS

from dspy_logeval.lm.endpoint import PROBE_VALUE

Behaviour = Callable[[int, dict[str, Any]], str]
"""(index of this sample request, request body) → 'ok', 'html', '501', 'hang' or 'slow'."""


class FakeOpenAI:
    """Answers /health and /v1/chat/completions; the start-up check's request is answered like the rest."""

    def __init__(self, behaviour: Behaviour, *, probe: str = "ok", slow_seconds: float = 1.5, port: int = 0) -> None:
        self.behaviour, self.probe, self.slow_seconds = behaviour, probe, slow_seconds
        self.samples = 0
        self.release = threading.Event()  # set to let hung requests go (so the server can shut down)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._send(200, "application/json", b'{"status": "ok"}')

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                is_probe = body.get("response_format", {}).get("json_schema", {}).get("name") == "probe"
                if is_probe:
                    mode = fake.probe
                else:
                    mode, fake.samples = fake.behaviour(fake.samples, body), fake.samples + 1
                fake.answer(self, mode, probe=is_probe)

            def _send(self, code: int, kind: str, payload: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"

    def answer(self, handler: Any, mode: str, *, probe: bool) -> None:
        if mode == "hang":
            self.release.wait(60)
            return
        if mode == "html":
            handler._send(200, "text/html", b"<html><body>Welcome to nginx!</body></html>")
            return
        if mode == "501":
            handler._send(501, "text/plain", b"Not Implemented")
            return
        if mode == "slow":
            time.sleep(self.slow_seconds)
        content = json.dumps({"answer": PROBE_VALUE} if probe else VALID_ANALYSIS)
        completion = {"id": "x", "object": "chat.completion", "created": 0, "model": "fake",
                      "choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": content}}],
                      "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
        handler._send(200, "application/json", json.dumps(completion).encode())

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
