"""Secrets out of text: the one function every writer of a file, an error line, an API answer or a log line uses.

An endpoint URL may carry credentials (`http://admin:pw@host:8080`, `?api_key=...`); a message that mentions the
URL would otherwise copy them into config.json, results.jsonl, reports, terminals and HTTP answers.

Example:
    >>> redact_url("cannot reach http://admin:S3cr3t@llm:8080/v1?api_key=abc&x=1")
    'cannot reach http://***@llm:8080/v1?api_key=***&x=1'
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "***"
SECRET_PARAMS = ("api_key", "apikey", "api-key", "key", "token", "access_token", "auth", "password", "passwd",
                 "pwd", "secret", "client_secret", "sig", "signature", "x-api-key")
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/?#@'\"<>]+@")
# litellm's transport errors print "failed to connect to user:pw@host:port" without the scheme.
_BARE_USERINFO = re.compile(r"(?<![^\s('\"=\[,])[^\s/@:'\"<>()\[\],=]+:[^\s/@'\"<>]+@(?=[A-Za-z0-9\[])")
_PARAM = re.compile(r"(?P<name>[?&;](?:" + "|".join(re.escape(p) for p in SECRET_PARAMS) + r"))=[^&#;,)\]}\s'\"<>]*",
                    re.IGNORECASE)
_BEARER = re.compile(r"(?P<name>\bBearer)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact_url(text: str) -> str:
    """TEXT with URL userinfo, secret-looking query parameters and bearer tokens masked.

    Args:
        text: any text: a URL, an error message, a log line.

    Returns:
        The same text with `user:password@` → `***@` (with or without a scheme before it),
        `api_key=...`/`token=...` → `api_key=***`, and `Bearer <token>` → `Bearer ***`; everything else unchanged.
    """
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _BARE_USERINFO.sub(f"{MASK}@", text)
    text = _PARAM.sub(lambda m: f"{m['name']}={MASK}", text)
    return _BEARER.sub(lambda m: f"{m['name']} {MASK}", text)


def redact_optional(text: str | None) -> str | None:
    """redact_url for a value that may be None (a record's error, a config's endpoint)."""
    return None if text is None else redact_url(text)


def redact_json(value: Any) -> Any:
    """VALUE (parsed JSON: dicts, lists, strings...) with redact_url applied to every string in it."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def install_log_redaction() -> None:
    """Redact every log record created from now on (message, arguments and traceback), whoever formats it.

    A record factory rather than a handler filter: uvicorn and basicConfig add their own handlers later.
    Installing twice is harmless.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        # Arguments stay arguments (uvicorn's access formatter unpacks them); only a secret-bearing one changes.
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(arg) for key, arg in record.args.items()}
        if record.exc_info:
            record.exc_text = redact_url(logging.Formatter().formatException(record.exc_info))
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _redact_arg(arg: object) -> object:
    if arg is None or isinstance(arg, (int, float)):
        return arg
    text = str(arg)
    clean = redact_url(text)
    return arg if clean == text else clean
