"""The embedded llama.cpp server (xllamacpp) as a child process that lives exactly as long as a command.

`python -m dspy_logeval.lm_server --model PATH --port N` is the child; EmbeddedServer starts it on a free port,
waits for /health, and stops it on exit, Ctrl-C or error. The child also exits when its parent dies.
A Supervisor restarts a child that died (the API keeps serving), a bounded number of times.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx

from dspy_logeval.core.errors import ConfigError, ModelUnavailable

log = logging.getLogger(__name__)
HEALTH_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def ensure_port_free(port: int, host: str = "127.0.0.1") -> None:
    """Raise ConfigError when nothing can listen on HOST:PORT (taken, or an address this machine does not have)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): pick another --port "
                              f"or stop what holds it") from None


class EmbeddedServer:
    """A llama.cpp server child process; use as a context manager, `base_url` once entered."""

    def __init__(self, model_path: Path, *, port: int | None = None, parallel: int = 1, n_ctx: int = 8192,
                 threads: int | None = None, log_path: Path | None = None) -> None:
        if port is not None and port_in_use(port):
            raise ModelUnavailable(f"port {port} is already in use; pick another with --port or stop what holds it")
        self.model_path = model_path
        self.port = port or free_port()
        self.parallel, self.n_ctx = parallel, n_ctx
        self.threads = threads or os.cpu_count() or 1
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The child's command line (tests swap in a fake server)."""
        return [sys.executable, "-m", "dspy_logeval.lm.server", "--model", str(self.model_path),
                "--port", str(self.port), "--parallel", str(self.parallel), "--n-ctx", str(self.n_ctx * self.parallel),
                "--threads", str(self.threads), "--parent", str(os.getpid())]

    def start(self) -> None:
        out = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise ModelUnavailable(f"the embedded llama.cpp server exited with code {self.proc.returncode} "
                                       f"while loading {self.model_path.name}"
                                       + (f"; see {self.log_path}" if self.log_path else ""))
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ModelUnavailable(f"the embedded llama.cpp server did not become healthy within {HEALTH_TIMEOUT_S:.0f} s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGTERM the child, and SIGKILL it after GRACE seconds (its in-flight requests end either way)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> EmbeddedServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Leaving on an error or Ctrl-C: a llama.cpp server shutting down stops answering, so waiting on it
        # only keeps the user waiting; nothing it holds needs a graceful end.
        self.stop(grace=1.0 if exc_type is not None else 10.0)


class Supervisor:
    """Restarts a dead EmbeddedServer on the same port (same base_url), at most MAX_RESTARTS times in its life.

    The n-th restart waits BACKOFF x 2^(n-1) seconds first, so a child that crashes on every start (a broken
    model file, no memory) costs a few seconds and then stays down, reported by /health, instead of looping.
    """

    def __init__(self, server: EmbeddedServer, *, max_restarts: int = 3, backoff: float = 1.0) -> None:
        self.server, self.max_restarts, self.backoff = server, max_restarts, backoff
        self.restarts = 0
        self._lock = threading.Lock()

    def alive(self) -> bool:
        return self.server.alive()

    def exhausted(self) -> bool:
        """True when the child is down and no restart is left."""
        return self.restarts >= self.max_restarts and not self.alive()

    def revive(self) -> bool:
        """Restart the child if it died (within the budget); True when it runs afterwards. Blocks while loading."""
        with self._lock:  # concurrent callers wait for one restart instead of starting several
            while not self.server.alive() and self.restarts < self.max_restarts:
                self.restarts += 1
                code = self.server.proc.returncode if self.server.proc else None
                log.warning("the embedded llama.cpp server is down (exit code %s); restart %d of %d",
                            code, self.restarts, self.max_restarts)
                time.sleep(self.backoff * 2 ** (self.restarts - 1))
                try:
                    self.server.start()
                except ModelUnavailable as exc:
                    log.warning("restart %d of the embedded llama.cpp server failed: %s", self.restarts, exc)
            return self.server.alive()


def _serve(args: argparse.Namespace) -> None:
    import xllamacpp  # heavy: only the child imports it

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.port = args.port
    params.n_ctx = args.n_ctx
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    # No host-RAM prompt cache: restoring a prefix computed in another request's batches changes llama.cpp's
    # floats, so the same config could give different answers depending on what ran before. The slot's own
    # cache still reuses the shared instructions/demos prefix from one sample to the next.
    params.cache_ram_mib = 0
    params.endpoint_metrics = True  # /metrics: the server's own token and time counters (benchmarks read them)
    server = xllamacpp.Server(params)  # serves on its own threads until the process exits
    stop = {"now": False}

    def _on_signal(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    while not stop["now"] and (args.parent == 0 or os.getppid() == args.parent):
        time.sleep(0.5)
    del server
    os._exit(0)  # llama.cpp threads do not join cleanly; the OS reclaims everything


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the embedded llama.cpp server (used by logeval).")
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--parent", type=int, default=0, help="exit when this process is gone")
    _serve(parser.parse_args(argv))


if __name__ == "__main__":
    main()
