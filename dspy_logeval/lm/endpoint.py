"""The LM server a command talks to: the embedded llama.cpp server or a user's endpoint (no DSPy here)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from dspy_logeval.core.config import ModelConfig
from dspy_logeval.core.errors import ConfigError, ModelUnavailable
from dspy_logeval.core.files import file_sha256
from dspy_logeval.lm.models import cached_model, known_model
from dspy_logeval.lm.server import EmbeddedServer, Supervisor


@dataclass(frozen=True)
class Endpoint:
    """A reachable OpenAI-compatible server and what it serves."""

    base_url: str
    model_name: str
    model_path: Path | None
    model_sha256: str | None
    embedded: bool
    supervisor: Supervisor | None = None
    """Restarts the embedded server's child if it dies (None for a user's endpoint)."""


def model_file(model: ModelConfig) -> tuple[Path, str]:
    """(path, sha256) of the .gguf the embedded server loads: model.file, or the known model's verified cache."""
    if model.file:
        path = Path(model.file).expanduser()
        if not path.is_file():
            raise ModelUnavailable(f"model file not found: {path} (model.file in the config)")
        return path, file_sha256(path)
    return cached_model(known_model(model.name).name)


@contextmanager
def open_endpoint(model: ModelConfig, *, log_path: Path | None = None) -> Iterator[Endpoint]:
    """Yield a healthy endpoint: start the embedded server for the duration, or check the user's URL."""
    if model.endpoint != "embedded":
        check_endpoint(model.endpoint)
        yield Endpoint(model.endpoint, model.name, None, None, embedded=False)
        return
    path, sha = model_file(model)
    with EmbeddedServer(path, parallel=model.parallel, n_ctx=model.n_ctx, log_path=log_path) as server:
        yield Endpoint(server.base_url, model.name, path, sha, embedded=True, supervisor=Supervisor(server))


def read_api_key(env_name: str | None) -> str | None:
    """The LM API key held in environment variable ENV_NAME (None when no name is given); never logged."""
    if not env_name:
        return None
    key = os.environ.get(env_name)
    if not key:
        raise ConfigError(f"environment variable {env_name} (the LM's API key) is not set or empty: export it, "
                          "or drop --api-key-env / model.api_key_env")
    return key


def check_endpoint(base_url: str) -> None:
    """Raise ModelUnavailable with the fix when nothing healthy answers at BASE_URL."""
    try:
        response = httpx.get(f"{base_url}/health", timeout=5.0)
    except httpx.HTTPError as exc:
        raise ModelUnavailable(
            f"cannot reach the LM at {base_url} ({type(exc).__name__}): port-forward your llama.cpp service "
            f"(kubectl port-forward svc/llama-cpp 8080:8080) or start one with `logeval lm serve`") from None
    if response.status_code != 200:
        raise ModelUnavailable(f"the LM at {base_url} is not ready: /health answered {response.status_code}")


PROBE_VALUE = "schema-enforced-7f3a"


def first_request(base_url: str, *, api_key: str | None = None, connect_timeout: float = 5.0,
                  timeout: float = 30.0) -> bool:
    """The start-up check: a one-word request the server must answer in time, as an OpenAI-compatible chat
    completion. Returns whether it enforced the JSON schema (the answer can only be the enum's one value).

    Raises:
        ModelUnavailable: unreachable, hung (no answer within TIMEOUT), an HTTP error, or a reply that is not a chat
            completion (an HTML page): the run ends before its first sample, saying which.
    """
    body = {
        "messages": [{"role": "user", "content": "Say hello in one word."}],
        "max_tokens": 64, "temperature": 0,
        # Computed from scratch, so every run's first sample starts from the same cache state whatever the server
        # did before: llama.cpp's floats depend on how a reused prefix was batched, and runs must be reproducible.
        "cache_prompt": False,
        "response_format": {"type": "json_schema", "json_schema": {"name": "probe", "strict": True, "schema": {
            "type": "object", "properties": {"answer": {"type": "string", "enum": [PROBE_VALUE]}},
            "required": ["answer"], "additionalProperties": False}}},
    }
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = f"{base_url}/v1/chat/completions"
    try:
        response = httpx.post(url, json=body, headers=headers,
                              timeout=httpx.Timeout(timeout, connect=connect_timeout))
    except httpx.TimeoutException:
        raise ModelUnavailable(f"the LM at {base_url} accepted the request but did not answer a one-word question "
                               f"within {timeout:.0f} s (hung); runtime.first_request_timeout sets the limit") from None
    except httpx.HTTPError as exc:
        raise ModelUnavailable(f"cannot reach the LM at {base_url} ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ModelUnavailable(f"the LM at {base_url} answered a one-word question with HTTP "
                               f"{response.status_code}: {' '.join(response.text.split())[:120]}")
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        kind = response.headers.get("content-type", "no content type")
        raise ModelUnavailable(f"the LM at {base_url} is not an OpenAI-compatible server: its reply ({kind}) is "
                               f"not a chat completion: {' '.join(response.text.split())[:80]!r}") from None
    try:
        return bool(json.loads(content) == {"answer": PROBE_VALUE})
    except (ValueError, TypeError):
        return False


def endpoint_record(endpoint: Endpoint, *, api_key: str | None = None, connect_timeout: float = 5.0,
                    timeout: float = 30.0) -> dict[str, Any]:
    """What a run's config.json records about the LM it talked to, after the start-up check (first_request)."""
    enforced = first_request(endpoint.base_url, api_key=api_key, connect_timeout=connect_timeout, timeout=timeout)
    return {"endpoint": "embedded" if endpoint.embedded else endpoint.base_url, "model_sha256": endpoint.model_sha256,
            "schema_enforced": enforced}
