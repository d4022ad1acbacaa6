from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dspy_logeval.core.config import ModelConfig
from dspy_logeval.core.errors import ModelUnavailable
from dspy_logeval.lm.endpoint import check_endpoint, model_file
from dspy_logeval.lm.models import known_model, verify_checksum
from dspy_logeval.lm.server import EmbeddedServer, free_port


def test_unreachable_endpoint_says_how_to_fix() -> None:
    port = free_port()
    with pytest.raises(ModelUnavailable) as err:
        check_endpoint(f"http://127.0.0.1:{port}")
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message and "port-forward" in message and "logeval lm serve" in message


def test_wrong_checksum_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="sha256"):
        verify_checksum(fake, known_model("smollm2-135m-instruct").sha256)


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="model file not found"):
        model_file(ModelConfig(file=str(tmp_path / "none.gguf")))


def test_unknown_model_lists_known() -> None:
    with pytest.raises(ModelUnavailable, match="smollm2-135m-instruct"):
        known_model("gpt-9")


def test_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(ModelUnavailable, match=f"port {port} is already in use"):
            EmbeddedServer(tmp_path / "m.gguf", port=port)


def test_server_that_dies_while_loading_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF but not really")
    with pytest.raises(ModelUnavailable, match="exited with code"):
        with EmbeddedServer(bad):
            pass
