"""Shared fixtures: the mini golden set, a config on it, and fake LM answers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ["COLUMNS"] = "200"  # rich tables in CliRunner output are not cut at 80 columns

from dspy_logeval.core.config import ExperimentConfig, validate_config  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
MINI_GOLDEN = FIXTURES / "mini-golden"

VALID_ANALYSIS: dict[str, Any] = {
    "root_cause": "normal_operation",
    "severity": "info",
    "component": "kube-system/coredns",
    "summary": "Nothing is wrong.",
    "action_needed": "ignore",
}


def mini_raw() -> list[dict[str, Any]]:
    """The mini golden set's samples as raw dicts, to break in tests."""
    return json.loads((MINI_GOLDEN / "samples.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def mini_config_dict(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "experiment_id": "mini",
        "dataset": {"version": str(MINI_GOLDEN), "split": "all"},
        "model": {"endpoint": "http://127.0.0.1:9", "name": "fake"},
        "program": "predict",
        "seed": 7,
    }
    raw.update(overrides)
    return raw


@pytest.fixture
def mini_config() -> ExperimentConfig:
    return validate_config(mini_config_dict(), source="test")
