"""The extraction plan: which Loki streams `logeval dataset extract` pulls, and how it cuts them into samples.

One YAML file (``datasets/extract-plan.yaml`` ships as the default) lists per-namespace LogQL, a target
sample count and a lookback, plus the grouping, paging, noise and masking settings. ``load_plan`` returns a
valid, frozen plan or raises ConfigError naming the field.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dspy_logeval.core.errors import ConfigError
from dspy_logeval.core.paths import DATASETS_DIR

__all__ = ["DEFAULT_PLAN_PATH", "ExtractPlan", "GroupingConfig", "MaskingConfig", "NamespacePlan",
           "PagingConfig", "duration_seconds", "load_plan"]

DEFAULT_PLAN_PATH = DATASETS_DIR / "extract-plan.yaml"
DURATION = r"^[1-9][0-9]{0,5}[smhd]$"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> int:
    """'30s', '15m', '6h', '14d' in seconds (the pattern DURATION is checked by the models)."""
    return int(text[:-1]) * UNITS[text[-1]]


class NamespacePlan(BaseModel):
    """One namespace to sample: its LogQL and how many samples it should contribute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    """Kubernetes namespace; also the sample's `namespace`."""
    selector: str
    """LogQL stream selector, e.g. '{namespace="llm"}'."""
    line_filter: str = ""
    """LogQL line filters appended to the selector, e.g. '|~ "(?i)(error|warn)"'."""
    target: int = Field(default=20, ge=0, le=10_000)
    """How many samples to keep for this namespace after dedupe (stratified by severity)."""
    lookback: str | None = Field(default=None, pattern=DURATION)
    """How far back to query for this namespace; None uses the plan's lookback (or --since)."""
    max_lines: int = Field(default=50_000, ge=1, le=5_000_000)
    """Stop pulling this namespace after this many lines."""

    @field_validator("selector")
    @classmethod
    def _is_selector(cls, value: str) -> str:
        value = value.strip()
        if not (value.startswith("{") and value.endswith("}") and "=" in value):
            raise ValueError("must be a LogQL stream selector like '{namespace=\"llm\"}'")
        return value

    def query(self) -> str:
        """The full LogQL query sent to Loki."""
        return f"{self.selector} {self.line_filter}".strip()


class GroupingConfig(BaseModel):
    """How lines of one stream become one sample, so a sample looks like what users paste."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_seconds: float = Field(default=30.0, gt=0, le=3600)
    """Lines of one stream within this many seconds of the group's first line form one sample."""
    max_lines: int = Field(default=6, ge=1, le=50)
    """A sample holds at most this many lines."""


class PagingConfig(BaseModel):
    """How a long range is cut into query_range calls that the Loki server accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size: int = Field(default=5000, ge=1, le=100_000)
    """The `limit` of one request; at most the server's max_entries_limit_per_query (5000 by default)."""
    max_window: str = Field(default="24h", pattern=DURATION)
    """Longest start..end of one request; below the server's max_query_length (721h by default)."""
    retries: int = Field(default=4, ge=0, le=10)
    """Retries on 429, 5xx and transport errors, with exponential backoff."""
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    """First backoff delay; doubled on every retry (a Retry-After header wins)."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    """Timeout of one HTTP request."""


class MaskingConfig(BaseModel):
    """Secrets and personal data replaced before anything is written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bearer_tokens: bool = True
    """'Bearer <token>' and 'Authorization: ...' values."""
    url_passwords: bool = True
    """'user:pass@' in URLs."""
    secret_keys: tuple[str, ...] = ("password", "passwd", "pwd", "token", "api_key", "apikey", "secret",
                                    "access_key", "client_secret")
    """Keys whose `key=value`, `key: value` or JSON values are masked."""
    emails: bool = True
    """Email addresses."""
    ipv4: bool = True
    """IPv4 addresses of hosts (cluster-internal 10.x addresses included)."""


class ExtractPlan(BaseModel):
    """Everything `dataset extract` needs besides the Loki URL and credentials."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: int = Field(default=1, ge=1, le=1)
    """Plan format; 1 is the only one so far."""
    lookback: str = Field(default="14d", pattern=DURATION)
    """Default range for every namespace, ending now; --since overrides it."""
    seed: int = 7
    """Seed of the stratified sampling (a local random.Random, never the global one)."""
    grouping: GroupingConfig = GroupingConfig()
    paging: PagingConfig = PagingConfig()
    masking: MaskingConfig = MaskingConfig()
    noise: tuple[str, ...] = ()
    """Extra regexes of lines to drop as noise, on top of the built-in health-check and probe patterns."""
    namespaces: tuple[NamespacePlan, ...] = Field(min_length=1)
    """The namespaces to sample, in order."""

    @field_validator("noise")
    @classmethod
    def _valid_regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regex: {exc}") from None
        return value

    @field_validator("namespaces")
    @classmethod
    def _unique_names(cls, value: tuple[NamespacePlan, ...]) -> tuple[NamespacePlan, ...]:
        names = [ns.name for ns in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"namespace listed twice: {', '.join(repeated)}")
        return value


def load_plan(path: Path | None = None) -> ExtractPlan:
    """Read an extraction plan YAML (the shipped default when PATH is None); ConfigError names the field."""
    path = path or DEFAULT_PLAN_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"extraction plan not found: {path} (the default is {DEFAULT_PLAN_PATH})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
    try:
        return ExtractPlan.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "plan"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{path}: {field}: {err['msg']}{more}") from None
