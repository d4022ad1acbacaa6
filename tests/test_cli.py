"""The `logeval evaluate` command's bad inputs: one clear line, exit 1, no traceback, no run folder."""

from __future__ import annotations

from pathlib import Path

from conftest import MINI_GOLDEN
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.lm.server import free_port

runner = CliRunner()


def _evaluate(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["evaluate", *args, "--runs-dir", str(tmp_path / "runs")])
    return result.exit_code, result.output


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return str(path)


def test_missing_config_is_one_clear_line(tmp_path: Path) -> None:
    code, output = _evaluate(tmp_path, str(tmp_path / "nope.yaml"))
    assert code == 1 and "config file not found" in output and "Traceback" not in output
    assert not (tmp_path / "runs").exists()


def test_invalid_yaml_and_wrong_type(tmp_path: Path) -> None:
    code, output = _evaluate(tmp_path, _config(tmp_path, "experiment_id: [x\n"))
    assert code == 1 and "not valid YAML" in output
    code, output = _evaluate(tmp_path, _config(tmp_path, "experiment_id: x\nllm_config: {max_tokens: lots}\n"))
    assert code == 1 and "llm_config.max_tokens" in output and "Traceback" not in output


def test_unknown_program_and_template_list_the_choices(tmp_path: Path) -> None:
    config = _config(tmp_path, f"experiment_id: x\ndataset: {{version: {MINI_GOLDEN}}}\n")
    code, output = _evaluate(tmp_path, config, "--program", "nope")      # a usage error, like every choice
    assert code == 2 and "'nope' is not one of" in output and "'two_stage'" in output
    config = _config(tmp_path, f"experiment_id: x\ndataset: {{version: {MINI_GOLDEN}}}\nprogram: nope\n")
    code, output = _evaluate(tmp_path, config)
    assert code == 1 and "available: cot, fewshot, knn, predict" in output and "Traceback" not in output
    config = _config(tmp_path, f"experiment_id: x\ndataset: {{version: {MINI_GOLDEN}}}\nprompt: {{template: v9}}\n")
    code, output = _evaluate(tmp_path, config)
    assert code == 1 and "unknown prompt template 'v9'" in output
    assert not (tmp_path / "runs").exists()


def test_missing_dataset(tmp_path: Path) -> None:
    code, output = _evaluate(tmp_path, "--dataset", "golden-v99")
    assert code == 1 and "dataset 'golden-v99' not found" in output


def test_unreachable_endpoint_names_the_url_and_creates_no_run(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    config = _config(tmp_path, f"experiment_id: x\ndataset: {{version: {MINI_GOLDEN}}}\nmodel: {{endpoint: {url}}}\n")
    code, output = _evaluate(tmp_path, config)
    assert code == 1 and url in output and "logeval lm serve" in output and "Traceback" not in output
    assert not (tmp_path / "runs").exists()


def test_bad_split_and_analyzer_flags(tmp_path: Path) -> None:
    code, output = _evaluate(tmp_path, "--split", "validation")
    assert code == 2 and "--split" in output
    code, output = _evaluate(tmp_path, "--analyzer", "production")
    assert code == 2 and "--prompt" in output


def test_resume_unknown_run(tmp_path: Path) -> None:
    code, output = _evaluate(tmp_path, "--resume", "20990101-000000-nothing")
    assert code == 1 and "no run" in output
