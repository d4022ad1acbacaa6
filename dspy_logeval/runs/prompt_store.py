"""prompts.jsonl: the prompt messages a run sent, stored once per run and referenced by hash from results.jsonl.

Each record carries `prompt_hash` (sha256 of its messages) and a bounded `raw_completion`; the messages live
here, each distinct message once, so instructions and demos shared by every sample cost one line, not one per
sample. Two kinds of line:

    {"kind": "message", "sha256": "<of the message>", "role": "system", "content": "..."}
    {"kind": "prompt", "sha256": "<prompt_hash>", "messages": ["<message sha256>", ...]}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PROMPTS_FILE = "prompts.jsonl"
RAW_COMPLETION_MAX = 4000
"""Characters of the raw completion kept on a record; the rest is cut with a note saying how much."""

Message = Mapping[str, Any]


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def prompt_hash(messages: Sequence[Message]) -> str:
    """sha256 of MESSAGES (role and content of each, in order): the key a record's prompt_hash holds."""
    return _digest([dict(m) for m in messages])


def bounded(text: str | None, limit: int = RAW_COMPLETION_MAX) -> str | None:
    """TEXT cut to LIMIT characters, saying how many were dropped."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters not kept]"


class PromptStore:
    """Append-only prompts.jsonl of one run folder; writes each message and prompt once."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / PROMPTS_FILE
        self._known: set[str] | None = None

    def _seen(self) -> set[str]:
        if self._known is None:
            self._known = {line["sha256"] for line in self._lines()}
        return self._known

    def _lines(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        lines = []
        for text in self.path.read_text(encoding="utf-8").splitlines():
            try:
                line = json.loads(text)
            except json.JSONDecodeError:  # a write cut short: that prompt is simply not shown
                continue
            if isinstance(line, dict) and "sha256" in line:
                lines.append(line)
        return lines

    def add(self, messages: Sequence[Message]) -> str:
        """Store MESSAGES (if new) and return their prompt hash."""
        seen, new = self._seen(), []
        message_ids = []
        for message in messages:
            mid = _digest(dict(message))
            message_ids.append(mid)
            if mid not in seen:
                seen.add(mid)
                new.append({"kind": "message", "sha256": mid, **dict(message)})
        key = prompt_hash(messages)
        if key not in seen:
            seen.add(key)
            new.append({"kind": "prompt", "sha256": key, "messages": message_ids})
        if new:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("".join(json.dumps(line, ensure_ascii=False, default=str) + "\n" for line in new))
        return key

    def load(self) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
        """(prompt hash → its message hashes, message hash → {role, content}); empty for runs without prompts."""
        prompts: dict[str, list[str]] = {}
        messages: dict[str, dict[str, Any]] = {}
        for line in self._lines():
            if line.get("kind") == "prompt":
                prompts[line["sha256"]] = list(line.get("messages") or [])
            elif line.get("kind") == "message":
                messages[line["sha256"]] = {"role": line.get("role"), "content": line.get("content")}
        return prompts, messages

    def messages(self, key: str) -> list[dict[str, Any]] | None:
        """The messages of prompt KEY, or None when this run did not store it."""
        prompts, messages = self.load()
        if key not in prompts:
            return None
        return [messages.get(mid, {"role": "?", "content": "(message missing)"}) for mid in prompts[key]]
