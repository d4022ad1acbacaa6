"""Secrets and personal data masked out of log lines before an extracted sample is written.

Which kinds are masked is the plan's ``masking`` section (MaskingConfig). Masks keep the line readable:
``Authorization: Bearer <token>``, ``https://<user>:<password>@host``, ``password=<redacted>``, ``<email>``,
``<ip>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from dspy_logeval.data.extract.plan import MaskingConfig

__all__ = ["Masker", "build_masker"]

Masker = Callable[[str], str]

BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}")
AUTH_HEADER = re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?!bearer\b|basic\b|token\b)[^\s\"',;]{6,}")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}")
URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])")


def _key_values(keys: tuple[str, ...]) -> re.Pattern[str]:
    """key=value, key: value, "key": "value" and ?key=value for any of KEYS (case-insensitive, any prefix)."""
    names = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?i)([\w-]*(?:{names})[\"']?\s*[:=]\s*[\"']?)(?!<redacted>)[^\s\"'&,;}}]+")


@lru_cache(maxsize=8)
def build_masker(config: MaskingConfig) -> Masker:
    """A function that masks what CONFIG asks for in one line of text.

    Example:
        >>> mask = build_masker(MaskingConfig())
        >>> mask("GET https://bob:hunter2@db.example.com/?api_key=abc123 from 192.168.1.20 by bob@example.com")
        'GET https://<user>:<password>@db.example.com/?api_key=<redacted> from <ip> by <email>'
    """
    # (cheap substring test on the lowercased line, pattern, replacement): the test skips most regex work
    steps: list[tuple[tuple[str, ...], re.Pattern[str], str]] = []
    if config.url_passwords:
        steps.append((("://",), URL_PASSWORD, r"\1<user>:<password>@"))
    if config.bearer_tokens:
        steps += [(("eyj",), JWT, "<token>"), (("bearer", "basic", "token"), BEARER, r"\1\2<token>"),
                  (("authorization",), AUTH_HEADER, r"\1<token>")]
    if config.secret_keys:
        steps.append((tuple(k.lower() for k in config.secret_keys), _key_values(config.secret_keys),
                      r"\1<redacted>"))
    if config.emails:
        steps.append((("@",), EMAIL, "<email>"))
    if config.ipv4:
        steps.append((tuple("0123456789"), IPV4, "<ip>"))

    def mask(text: str) -> str:
        lowered = text.lower()
        for needles, pattern, replacement in steps:
            if any(needle in lowered for needle in needles):
                text = pattern.sub(replacement, text)
        return text

    return mask
