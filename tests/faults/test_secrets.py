"""Credentials in an endpoint URL never reach a file, an error line or a log: every writer goes through redact_url."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import MINI_GOLDEN, mini_config_dict
from fake_lm import OracleLM
from fake_openai import FakeOpenAI
from test_analyzer import make_artifact
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.core.config import validate_config
from dspy_logeval.core.errors import RunStopped
from dspy_logeval.core.redact import install_log_redaction, redact_url
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.eval.runner import EvalRequest, evaluate_experiment, evaluate_production
from dspy_logeval.runs.folder import list_runs

SECRET = "S3cr3tP4ss"
TOKEN = "T0k3nV4lue"


def cred_url(port: int) -> str:
    return f"http://admin:{SECRET}@127.0.0.1:{port}"


def leaked_in(root: Path) -> list[str]:
    """Files under ROOT that contain a secret (every file, whatever its type)."""
    return [str(p) for p in root.rglob("*") if p.is_file()
            and (SECRET.encode() in p.read_bytes() or TOKEN.encode() in p.read_bytes())]


@pytest.mark.parametrize("text, expected", [
    ("http://admin:S3cr3tP4ss@host:8080", "http://***@host:8080"),
    ("https://tok@llm.internal/v1", "https://***@llm.internal/v1"),
    ("GET http://h:1/v1?api_key=abc&x=1&token=zz#f", "GET http://h:1/v1?api_key=***&x=1&token=***#f"),
    ("at http://h/?Access_Token=q;sig=s)", "at http://h/?Access_Token=***;sig=***)"),
    ("Authorization: Bearer abc.DEF-1", "Authorization: Bearer ***"),
    ("failed to connect to admin:S3cr3tP4ss@127.0.0.1:41467: refused",
     "failed to connect to ***@127.0.0.1:41467: refused"),
    ("(admin:pw@h) mailed bob@example.com", "(***@h) mailed bob@example.com"),
    ("http://host:8080/health?x=1 and bob@example.com", "http://host:8080/health?x=1 and bob@example.com"),
])
def test_redact_url_masks_userinfo_secret_params_and_bearer_tokens(text: str, expected: str) -> None:
    assert redact_url(text) == expected


class _LeakyLM(OracleLM):
    """Answers right, but fails mini-002 with a connection error that quotes the URL and its token."""

    def __init__(self, url: str) -> None:
        super().__init__(load_dataset(str(MINI_GOLDEN)).samples)
        self.url = url

    def forward(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        if messages and "failed to checkout" in messages[-1]["content"]:
            raise ConnectionError(f"Cannot connect to {self.url}/v1/chat/completions?token={TOKEN}")
        return super().forward(prompt=prompt, messages=messages, **kwargs)


def test_dspy_run_writes_no_credentials_anywhere(tmp_path: Path) -> None:
    url = cred_url(9)
    config = validate_config(mini_config_dict(model={"endpoint": url, "name": "fake"}), source="t")
    with pytest.raises(RunStopped, match="1 of 5 samples failed on the LM side"):  # it stays resumable
        evaluate_experiment(config, runs_dir=tmp_path / "runs", lm=_LeakyLM(url))
    assert leaked_in(tmp_path) == []
    (run,) = list_runs(tmp_path / "runs")
    assert {p.name for p in run.path.iterdir()} >= {"config.json", "results.jsonl", "failures.jsonl", "metrics.json",
                                                   "summary.md", "report.html"}
    assert run.config().config.model.endpoint == "http://***@127.0.0.1:9"  # still a loadable config
    failed = json.loads((run.path / "failures.jsonl").read_text())
    assert failed["error_kind"] == "transport" and "http://***@127.0.0.1:9" in failed["error"]
    assert "token=***" in failed["error"]


def test_production_run_on_a_credentialed_server_writes_no_credentials(tmp_path: Path) -> None:
    with FakeOpenAI(fail_when="failed to checkout") as lm, pytest.raises(RunStopped, match="failed on the LM side"):
        evaluate_production(make_artifact(), runs_dir=tmp_path / "runs", endpoint=cred_url(lm.port),
                            request=EvalRequest(dataset=str(MINI_GOLDEN), split="all"))
    assert any(h and h.startswith("Basic ") for h in lm.auth_headers)  # the credentials were used...
    assert leaked_in(tmp_path) == []                                     # ...and written nowhere
    (run,) = list_runs(tmp_path / "runs")
    record = run.config()
    assert record.endpoint == record.config.model.endpoint == f"http://***@127.0.0.1:{lm.port}"
    failed = json.loads((run.path / "failures.jsonl").read_text())
    assert failed["error_kind"] == "transport" and f"http://***@127.0.0.1:{lm.port}" in failed["error"]


# dspy's transport imports TypedDicts on its first real request that pydantic warns about (not our code).
@pytest.mark.filterwarnings("ignore:Items? .* using the `ReadOnly` qualifier:UserWarning")
def test_cli_run_through_a_credentialed_server_shows_and_writes_no_credentials(tmp_path: Path) -> None:
    with FakeOpenAI() as lm:
        cfg = tmp_path / "cred.yaml"
        cfg.write_text(yaml.safe_dump(mini_config_dict(model={"endpoint": cred_url(lm.port), "name": "fake"},
                                                       runtime={"retries": 0})))
        result = CliRunner().invoke(app, ["evaluate", str(cfg), "--runs-dir", str(tmp_path / "runs"),
                                          "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "Basic YWRtaW46UzNjcjN0UDRzcw==" in lm.auth_headers  # admin:S3cr3tP4ss reached the server as Basic auth
    assert leaked_in(tmp_path / "runs") == [] and leaked_in(tmp_path) == [str(cfg)]  # only the user's own file
    (run,) = list_runs(tmp_path / "runs")
    assert run.config().endpoint == f"http://***@127.0.0.1:{lm.port}"
    assert [r.error for r in run.records()] == [None, None]


def test_unreachable_credentialed_endpoint_is_one_redacted_line_and_no_run_folder(tmp_path: Path) -> None:
    cfg = tmp_path / "down.yaml"
    cfg.write_text(yaml.safe_dump(mini_config_dict(model={"endpoint": cred_url(9), "name": "fake"})))
    result = CliRunner().invoke(app, ["evaluate", str(cfg), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1
    assert "error: cannot reach the LM at http://***@127.0.0.1:9" in result.output
    assert SECRET not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists() or list_runs(tmp_path / "runs") == []


def test_log_records_are_redacted_whoever_writes_them(caplog: pytest.LogCaptureFixture) -> None:
    previous = logging.getLogRecordFactory()
    try:
        install_log_redaction()
        install_log_redaction()  # twice is harmless
        with caplog.at_level(logging.INFO):
            url = f"{cred_url(1)}/health?api_key={TOKEN}"
            logging.getLogger("logeval.test").info("HTTP Request: %s %s %d", "GET", url, 200)
            try:
                raise RuntimeError(f"cannot reach {cred_url(1)}")
            except RuntimeError:
                logging.getLogger("x").exception("failed")
    finally:
        logging.setLogRecordFactory(previous)
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert SECRET not in text and TOKEN not in text
    assert "GET http://***@127.0.0.1:1/health?api_key=*** 200" in caplog.text


@pytest.mark.filterwarnings("ignore:Items? .* using the `ReadOnly` qualifier:UserWarning")
def test_resuming_a_credentialed_run_takes_the_url_from_the_config(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with FakeOpenAI() as lm:
        cfg = tmp_path / "cred.yaml"
        cfg.write_text(yaml.safe_dump(mini_config_dict(model={"endpoint": cred_url(lm.port), "name": "fake"})))
        assert CliRunner().invoke(app, ["evaluate", str(cfg), "--runs-dir", str(runs), "--limit", "2"]).exit_code == 0
        (run,) = list_runs(runs)
        results = run.path / "results.jsonl"
        results.write_text(results.read_text().splitlines()[0] + "\n")  # as if stopped after one sample
        lm.auth_headers.clear()
        without = CliRunner().invoke(app, ["evaluate", "--resume", run.run_id, "--runs-dir", str(runs)])
        assert without.exit_code == 1 and "resume with the config that holds the real URL" in without.output
        assert SECRET not in without.output and lm.auth_headers == []
        other = tmp_path / "other.yaml"
        other.write_text(yaml.safe_dump(mini_config_dict(model={"endpoint": "http://me:x@10.0.0.1:1", "name": "f"})))
        wrong = CliRunner().invoke(app, ["evaluate", str(other), "--resume", run.run_id, "--runs-dir", str(runs)])
        assert wrong.exit_code == 1 and "but the run was scored on http://***@127.0.0.1" in wrong.output
        resumed = CliRunner().invoke(app, ["evaluate", str(cfg), "--resume", run.run_id, "--runs-dir", str(runs)])
    assert resumed.exit_code == 0, resumed.output
    assert "Basic YWRtaW46UzNjcjN0UDRzcw==" in lm.auth_headers and len(run.records()) == 2
    assert leaked_in(runs) == [] and SECRET not in resumed.output


def test_compiled_manifest_and_prompt_provenance_hold_no_credentials(tmp_path: Path) -> None:
    import dspy

    from dspy_logeval.eval.compiled import read_manifest, save_compiled
    from dspy_logeval.serve.prompt_artifact import PromptArtifact, save_artifact

    model = {"endpoint": cred_url(8080) + f"?api_key={TOKEN}", "name": "fake"}
    manifest = {"config": {"model": model}, "teacher": {"config": {"model": model}, "endpoint": cred_url(8081)}}
    path = save_compiled(dspy.Predict("logs -> summary"), tmp_path / "compiled" / "p.json", manifest)
    assert read_manifest(path)["teacher"]["endpoint"] == "http://***@127.0.0.1:8081"
    artifact = make_artifact(provenance={"config": {"model": model}, "source_run": "r"})
    saved = PromptArtifact.model_validate_json(save_artifact(artifact, tmp_path / "prompts").read_text())
    assert saved.provenance["config"]["model"]["endpoint"] == "http://***@127.0.0.1:8080?api_key=***"
    assert saved.messages == artifact.messages  # the prompt itself is byte for byte what was exported
    assert leaked_in(tmp_path) == []
