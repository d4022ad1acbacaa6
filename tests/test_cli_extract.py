"""`logeval dataset extract | label | synthesize` end to end through CliRunner, on recorded Loki responses.

The golden path: extract → label → (review) → label --accept → synthesize → combine → freeze golden-vN into a
tmp datasets dir → load_dataset; and every bad Loki answer is one `error: ...` line, exit 1, no output file.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import typer
from fake_loki import LOKI_FIXTURES, FakeLoki
from typer.testing import CliRunner

from dspy_logeval.cli import extract as cli_extract
from dspy_logeval.cli.dataset import dataset_app
from dspy_logeval.data.dataset import load_dataset

app = typer.Typer()
app.add_typer(dataset_app, name="dataset")
runner = CliRunner()
UNTIL = ["--until", "2026-12-05T00:00:00Z"]
SECRETS = ("S3cretPass", "hunter2", "AKIAEXAMPLEKEY12345", "jane.doe@example.com", "eyJhbGciOiJIUzI1NiJ9",
           "sk-live-9f8e7d6c5b4a3f2e1d0c", "192.168.1.2", "tok-env-secret", "pw-env-secret")


@pytest.fixture
def loki(monkeypatch: pytest.MonkeyPatch) -> FakeLoki:
    fake = FakeLoki.from_fixtures()
    monkeypatch.setattr(cli_extract, "LOKI_TRANSPORT", fake.transport())
    monkeypatch.setenv("LOKI_USERNAME", "alice")
    monkeypatch.setenv("LOKI_PASSWORD", "pw-env-secret")
    monkeypatch.setenv("LOKI_TENANT", "homelab")
    return fake


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["dataset", *args])
    return result.exit_code, result.output


def _extract(tmp_path: Path, *extra: str) -> tuple[int, str]:
    return _invoke("extract", "--loki", "http://loki.local:3100", *UNTIL, "--out", str(tmp_path / "u.json"),
                   *extra)


def test_extract_label_accept_combine_freeze(loki: FakeLoki, tmp_path: Path) -> None:
    code, out = _extract(tmp_path)
    assert code == 0, out
    assert "extract summary" in out and "after dedupe" in out and "kube-system" in out
    assert "wrote " in out and "12 unlabeled samples" in out
    assert all(r.headers["x-scope-orgid"] == "homelab" for r in loki.requests)

    code, out = _invoke("label", str(tmp_path / "u.json"), "--out", str(tmp_path / "review.json"))
    assert code == 0 and "12 proposals" in out, out
    review = json.loads((tmp_path / "review.json").read_text())
    for item in review["items"]:
        item["status"] = "accepted"
    (tmp_path / "review.json").write_text(json.dumps(review))
    code, out = _invoke("label", str(tmp_path / "u.json"), "--accept", str(tmp_path / "review.json"),
                        "--out", str(tmp_path / "labeled.json"))
    assert code == 0 and "12 labeled samples" in out, out

    code, out = _invoke("synthesize", "--root-causes", "pvc_pending,rbac_permission_denied,llm_oom", "--n", "6",
                        "--seed", "5", "--out", str(tmp_path / "syn.json"))
    assert code == 0 and "6 synthetic samples from 3 templates" in out, out

    code, out = _invoke("combine", str(tmp_path / "labeled.json"), str(tmp_path / "syn.json"),
                        "--out", str(tmp_path / "combined.json"))
    assert code == 0 and "real share 0.70: kept 12 real + 5 synthetic" in out, out

    datasets = tmp_path / "datasets"
    datasets.mkdir()
    (datasets / "CHANGELOG.md").write_text("## golden-v2\nFirst set from our own Loki.\n")
    code, out = _invoke("freeze", str(tmp_path / "combined.json"), "--version", "golden-v2",
                        "--datasets-dir", str(datasets))
    assert code == 0 and "froze" in out, out
    frozen = load_dataset(str(datasets / "golden-v2"))
    assert len(frozen.samples) == 17 and {s.source for s in frozen.samples} == {"real", "synthetic"}
    assert all(s.split for s in frozen.samples)

    for path in tmp_path.rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert not [secret for secret in SECRETS if secret in text], path


def test_analyze_prints_rules_agreement_for_a_labeled_set() -> None:
    code, out = _invoke("analyze", str(Path(__file__).parent / "fixtures" / "mini-golden"))
    assert code == 0 and "pattern rules (label_rules.py) agree with the labels on 5 samples: root_cause" in out
    code, out = _invoke("analyze", str(Path(__file__).parent / "fixtures" / "mini-golden"), "--json")
    assert json.loads(out)["rules_agreement"]["n"] == 5


def _scripted(monkeypatch: pytest.MonkeyPatch, *responses: httpx.Response) -> FakeLoki:
    fake = FakeLoki.from_fixtures(script=list(responses))
    monkeypatch.setattr(cli_extract, "LOKI_TRANSPORT", fake.transport())
    return fake


def test_429_then_success(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _scripted(monkeypatch, httpx.Response(429, text="too many outstanding requests",
                                                 headers={"Retry-After": "0"}))
    code, out = _extract(tmp_path)
    assert code == 0 and (tmp_path / "u.json").is_file(), out
    assert fake.requests[0].url == fake.requests[1].url  # the same page asked again


@pytest.mark.parametrize(("response", "expected"), [
    (httpx.Response(401, text=(LOKI_FIXTURES / "unauthorized.txt").read_text()),
     "error: Loki at http://loki.local:3100 refused the credentials (401: no org id); set LOKI_USERNAME"),
    (httpx.Response(200, text=(LOKI_FIXTURES / "malformed.json").read_text()), "error: Loki's answer to"),
    (httpx.Response(200, json=json.loads((LOKI_FIXTURES / "metric-result.json").read_text())),
     "resultType 'matrix'"),
])
def test_bad_loki_answers_are_one_line_and_write_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         response: httpx.Response, expected: str) -> None:
    monkeypatch.setenv("LOKI_TOKEN", "tok-env-secret")
    _scripted(monkeypatch, response)
    code, out = _extract(tmp_path)
    assert code == 1 and expected in out and "Traceback" not in out
    assert not (tmp_path / "u.json").exists() and "tok-env-secret" not in out


def test_empty_results_everywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli_extract, "LOKI_TRANSPORT", FakeLoki([]).transport())
    code, out = _extract(tmp_path)
    assert code == 1 and "error: no samples extracted" in out and not (tmp_path / "u.json").exists()


@pytest.mark.parametrize(("args", "expected"), [
    (["--since", "2w"], "error: --since '2w' must be a number and s, m, h or d"),
    (["--until", "yesterday"], "error: --until 'yesterday' is not an ISO 8601 time"),
    (["--plan", "/nonexistent/plan.yaml"], "error: extraction plan not found: /nonexistent/plan.yaml"),
])
def test_bad_options_are_one_line(loki: FakeLoki, tmp_path: Path, args: list[str], expected: str) -> None:
    code, out = _extract(tmp_path, *args)
    assert code == 1 and expected in out


def test_label_and_synthesize_errors_are_one_line(tmp_path: Path) -> None:
    code, out = _invoke("label", str(tmp_path / "missing.json"))
    assert code == 1 and "missing.json not found" in out
    code, out = _invoke("synthesize", "--root-causes", "bogus", "--out", str(tmp_path / "s.json"))
    assert code == 1 and "error: root cause 'bogus' is not in taxonomy.yaml" in out
    assert not (tmp_path / "s.json").exists()


def test_combine_reports_an_unmet_ratio_as_a_line_not_an_error(tmp_path: Path) -> None:
    code, out = _invoke("synthesize", "--n", "4", "--out", str(tmp_path / "syn.json"))
    assert code == 0, out
    code, out = _invoke("combine", str(tmp_path / "syn.json"), "--real-ratio", "0.5", "--severity-mix",
                        "error=1", "--out", str(tmp_path / "combined.json"))
    assert code == 0 and "could not meet real share 0.50: no real samples" in out, out
    assert (tmp_path / "combined.json").is_file()
