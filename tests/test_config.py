from __future__ import annotations

from pathlib import Path

import pytest

from dspy_logeval.core.config import CONFIGS_DIR, load_config
from dspy_logeval.core.errors import ConfigError


def test_every_shipped_config_loads() -> None:
    paths = sorted(CONFIGS_DIR.glob("*.yaml"))
    assert len(paths) >= 8
    for path in paths:
        config = load_config(path)
        assert config.experiment_id == path.stem


def test_default_is_the_embedded_baseline() -> None:
    config = load_config()
    assert config.model.endpoint == "embedded" and config.dataset.version == "golden-v2"


def test_three_baseline_temperatures_ship() -> None:
    temps = sorted(load_config(p).llm_config.temperature for p in CONFIGS_DIR.glob("baseline-*.yaml"))
    assert temps == [0.1, 0.3, 0.5]


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("experiment_id: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_wrong_type_names_the_field_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("experiment_id: x\nllm_config: {temperature: hot}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "llm_config.temperature" in str(err.value) and str(path) in str(err.value)


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("experiment_id: x\nmodle: {}\n")
    with pytest.raises(ConfigError, match="modle"):
        load_config(path)


def test_endpoint_must_be_embedded_or_url(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("experiment_id: x\nmodel: {endpoint: localhost:8080}\n")
    with pytest.raises(ConfigError, match="model.endpoint"):
        load_config(path)


def test_unknown_weight_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("experiment_id: x\nmetrics: {weights: {speed: 1.0}}\n")
    with pytest.raises(ConfigError, match="speed"):
        load_config(path)
