"""Experiment configs: frozen pydantic models read from configs/<id>.yaml by one function."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dspy_logeval.core.errors import ConfigError
from dspy_logeval.core.paths import CONFIGS_DIR

DEFAULT_CONFIG = CONFIGS_DIR / "baseline-smollm2-t01.yaml"
ScoreName = Literal["root_cause", "severity", "component", "action", "summary"]
DEFAULT_BOOTSTRAP_PASS: tuple[ScoreName, ...] = ("root_cause", "severity")
# Root cause is what the on-call engineer acts on, so it carries the most weight; severity decides who gets
# paged, so it comes next; component, action and summary each refine the diagnosis by an equal share.
DEFAULT_WEIGHTS: dict[str, float] = {
    "root_cause": 0.35, "severity": 0.2, "component": 0.15, "action": 0.15, "summary": 0.15,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetConfig(_Frozen):
    version: str = "golden-v2"
    """A golden version under datasets/, or a path to any samples.json in the Sample contract."""
    split: Literal["all", "train", "dev", "test"] = "all"
    """Which split to score; a user's own set without splits only has 'all'."""


class ModelConfig(_Frozen):
    endpoint: str = "embedded"
    """'embedded' starts the bundled llama.cpp server; otherwise an OpenAI-compatible base URL (http://host:port)."""
    name: str = "smollm2-135m-instruct"
    """Model name: a known embedded model (`logeval lm list`) or the name the remote server serves."""
    file: str | None = None
    """Path to a .gguf file for the embedded server instead of a known model."""
    parallel: int = Field(default=1, ge=1, le=16)
    """llama.cpp slots for the embedded server; 1 keeps predictions bit-for-bit reproducible."""
    n_ctx: int = Field(default=8192, ge=512, le=131072)
    """Context window per slot of the embedded server (the server gets n_ctx x parallel)."""
    api_key_env: str | None = None
    """Name of an environment variable holding the remote server's API key (never the key itself)."""

    @field_validator("endpoint")
    @classmethod
    def _endpoint_form(cls, value: str) -> str:
        if value != "embedded" and not value.startswith(("http://", "https://")):
            raise ValueError("must be 'embedded' or an http(s):// URL such as http://localhost:8080")
        return value.rstrip("/")


class LLMConfig(_Frozen):
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """Sampling temperature sent with every request."""
    max_tokens: int = Field(default=320, ge=16, le=8192)
    """Upper bound on generated tokens per answer."""
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    seed: int = 42
    """Sampling seed sent to llama.cpp, so temperature > 0 is reproducible too."""


class PromptConfig(_Frozen):
    template: str = "root_cause_v1"
    """Instruction variant in signatures/ (root_cause_v1, structured_v1, cot_v1, fewshot_v1, taxonomy_guided_v1)."""
    system_prompt: str | None = None
    """Extra text put before the template's instructions."""


class MetricsConfig(_Frozen):
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    """Composite weights over root_cause, severity, component, action, summary (docs/metrics.md)."""
    bootstrap_pass: list[ScoreName] = Field(default_factory=lambda: list(DEFAULT_BOOTSTRAP_PASS))
    """Scores a bootstrapped demo must get fully right to be kept (e.g. root cause and severity both right)."""
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    """Composite score a bootstrapped demo must also reach (None: the bootstrap_pass fields decide alone)."""
    price_per_1k_tokens: float = Field(default=0.0, ge=0.0)
    """Cost per 1,000 tokens in USD for cost_usd; 0 for a local model."""

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown weight(s) {sorted(unknown)}; allowed: {sorted(DEFAULT_WEIGHTS)}")
        if any(v < 0 for v in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return value


class RuntimeConfig(_Frozen):
    request_timeout: float = Field(default=180.0, gt=0)
    """Seconds one LM request may take to generate its answer before it is abandoned (a timeout failure)."""
    connect_timeout: float = Field(default=5.0, gt=0)
    """Seconds to open a connection to the LM (the production analyzer and the start-up check)."""
    first_request_timeout: float = Field(default=30.0, gt=0)
    """The start-up check: a tiny request must be answered within this, or the run ends before it starts."""
    stall_timeout: float = Field(default=120.0, gt=0)
    """Whole-run watchdog: when no sample finishes for this long, the run stops and says what hung."""
    retries: int = Field(default=2, ge=0, le=10)
    """Retries with backoff for transient HTTP errors."""
    max_errors: int = Field(default=3, ge=1)
    """LM-side failures in a row (unreachable, 5xx, not a completion, timeout) after which the run stops."""
    concurrency: int = Field(default=1, ge=1, le=32)
    """Requests in flight; more than the server's slots only queues."""


class GateConfig(_Frozen):
    """What `logeval gate RUN` checks when the command line does not say (its --min/--max override by name)."""

    min: dict[str, float] = Field(default_factory=dict)
    """Lowest acceptable value per metric: a short name or dotted path of runs/metric_keys.py (composite: 0.3)."""
    max: dict[str, float] = Field(default_factory=dict)
    """Highest acceptable value per metric (p95_latency_ms: 9000)."""
    against: str | None = None
    """'production', 'baseline' or a run id: fail when the run is significantly worse than it (None: no test)."""


class TrackingConfig(_Frozen):
    """Where finished runs are logged besides their run folder."""

    mlflow: str | None = None
    """MLflow tracking URI (http://host:5000, sqlite:///mlflow.db); needs `pip install 'dspy-logeval[mlflow]'`."""
    mlflow_experiment: str | None = None
    """MLflow experiment name (None: the config's experiment_id)."""


class ExperimentConfig(_Frozen):
    experiment_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")
    """Names the run folders; by convention equal to the config's file name."""
    description: str = ""
    dataset: DatasetConfig = DatasetConfig()
    model: ModelConfig = ModelConfig()
    llm_config: LLMConfig = LLMConfig()
    prompt: PromptConfig = PromptConfig()
    program: str = "predict"
    """Program in programs/: predict, cot, fewshot."""
    fewshot_k: int = Field(default=3, ge=1, le=16)
    """Demos the fewshot program takes from the train split."""
    metrics: MetricsConfig = MetricsConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    seed: int = 7
    """Seeds splits, demo choice and bootstrap CIs."""
    gate: GateConfig | None = None
    """Thresholds and reference for `logeval gate` (None: only what the command line gives)."""
    tracking: TrackingConfig | None = None
    """External experiment tracking of each finished run (None: the run folder only)."""


def load_config(path: Path | str | None = None) -> ExperimentConfig:
    """Read and validate an experiment YAML (default: the embedded baseline); raise ConfigError naming the field."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    if not path.exists() and not path.suffix and (CONFIGS_DIR / f"{path}.yaml").exists():
        path = CONFIGS_DIR / f"{path}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path} (experiments live in configs/<id>.yaml)") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a config file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of config fields, not {type(raw).__name__}")
    return validate_config(raw, source=str(path))


def validate_config(raw: dict[str, Any], *, source: str) -> ExperimentConfig:
    """An ExperimentConfig from a dict, or a ConfigError listing each bad field path."""
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{source}: invalid config: {problems}") from None
