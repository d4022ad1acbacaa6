"""The dspy.LM on an endpoint: the one place the engine builds DSPy's client for a llama.cpp server."""

from __future__ import annotations

import base64
import os
from typing import Any

import dspy
import httpx

from dspy_logeval.core.config import LLMConfig, RuntimeConfig
from dspy_logeval.lm.endpoint import Endpoint


def build_lm(endpoint: Endpoint, llm: LLMConfig, runtime: RuntimeConfig, *, api_key_env: str | None = None,
             cache: bool = False) -> dspy.LM:
    """A dspy.LM on the endpoint's OpenAI-compatible API with the config's sampling parameters."""
    api_key = os.environ.get(api_key_env, "") if api_key_env else ""
    base_url, auth = _split_userinfo(endpoint.base_url)
    return dspy.LM(
        f"openai/{endpoint.model_name}",
        api_base=f"{base_url}/v1",
        api_key=api_key or "local",
        **auth,
        temperature=llm.temperature,
        max_tokens=llm.max_tokens,
        top_p=llm.top_p,
        frequency_penalty=llm.frequency_penalty,
        presence_penalty=llm.presence_penalty,
        seed=llm.seed,
        cache=cache,
        num_retries=runtime.retries,
        timeout=runtime.request_timeout,
    )


def _split_userinfo(url: str) -> tuple[str, dict[str, Any]]:
    """(URL without user:password@, litellm kwargs sending them as HTTP Basic auth): litellm cannot connect to a
    URL that carries userinfo, while httpx (the production analyzer) turns it into Basic auth by itself."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url, {}
    basic = base64.b64encode(f"{parsed.username}:{parsed.password}".encode()).decode()
    return str(parsed.copy_with(username=None, password=None)).rstrip("/"), {
        "extra_headers": {"Authorization": f"Basic {basic}"}}
