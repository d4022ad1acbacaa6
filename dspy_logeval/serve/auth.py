"""Who may call the API: a bearer token read from the environment (LOGEVAL_API_TOKEN), never from a flag or file.

Without the variable the API is open, which is right for 127.0.0.1; bound to 0.0.0.0 anyone on the network can
call it (docs/production.md). /health and /metrics stay open for probes and Prometheus.
"""

from __future__ import annotations

import hmac
import os

TOKEN_ENV = "LOGEVAL_API_TOKEN"


def token_from_env() -> str | None:
    """The API token, or None (no authentication) when LOGEVAL_API_TOKEN is unset or empty."""
    return os.environ.get(TOKEN_ENV) or None


def authorized(header: str | None, token: str) -> bool:
    """True when an Authorization HEADER is `Bearer TOKEN`; compared in constant time, so timing says nothing."""
    scheme, _, value = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
