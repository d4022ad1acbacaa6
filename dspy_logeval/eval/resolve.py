"""Which program a command runs: the one place that decides, for evaluate (and its --resume) and export.

A Target is a config plus what predicts under it: a compiled program, a prompt artifact (the production
analyzer), or neither (the config's own program on its template, built with the dataset's train split).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dspy

from dspy_logeval.core.config import ExperimentConfig, load_config, validate_config
from dspy_logeval.core.errors import ConfigError
from dspy_logeval.core.paths import PROJECT_ROOT
from dspy_logeval.core.redact import MASK, redact_url
from dspy_logeval.eval.compiled import load_compiled
from dspy_logeval.eval.production import artifact_config
from dspy_logeval.runs.folder import RunFolder, resolve_run
from dspy_logeval.runs.record import Lineage
from dspy_logeval.serve.prompt_artifact import PromptArtifact, load_artifact


@dataclass(frozen=True)
class Target:
    """What to score and under which config; `resume` is the run folder to continue, if any."""

    config: ExperimentConfig
    program: dspy.Module | None = None
    artifact: PromptArtifact | None = None
    lineage: Lineage | None = None
    resume: RunFolder | None = None


def from_config(config: Path | str | None, *, program: str | None = None) -> Target:
    """The config's program on its template (PROGRAM overrides the config's program name)."""
    cfg = load_config(config)
    if program is not None:
        cfg = validate_config({**cfg.model_dump(mode="json"), "program": program}, source="--program")
    return Target(cfg)


def from_compiled(path: Path, *, config: Path | str | None = None) -> Target:
    """A saved compiled program, under CONFIG (default: the config it was compiled with)."""
    module, manifest = load_compiled(path)
    base = load_config(config) if config else validate_config(manifest["config"], source=str(path))
    cfg = base.model_copy(update={"experiment_id": f"{base.experiment_id}-compiled"})
    return Target(cfg, program=module,
                  lineage=Lineage(compiled=str(path), compiled_from=manifest["config"]["experiment_id"]))


def from_prompt(name: str, prompts_dir: Path, *, endpoint: str | None = None) -> Target:
    """A prompt artifact scored through the production analyzer."""
    artifact = load_artifact(name, prompts_dir)
    return Target(artifact_config(artifact, endpoint=endpoint), artifact=artifact,
                  lineage=Lineage(prompt=artifact.meta()))


def from_run(ref: str, runs_dir: Path, *, prompts_dir: Path, config: Path | str | None = None) -> Target:
    """The same thing a recorded run scored (its compiled program, prompt or config), to resume it; CONFIG gives
    back the endpoint's credentials when config.json holds it redacted."""
    run = resolve_run(ref, runs_dir)
    record = run.config()
    lineage = record.lineage
    recorded = unredacted_endpoint(record.config, config)
    if lineage and lineage.compiled:
        module, _ = load_compiled(compiled_path(lineage.compiled))
        return Target(recorded, program=module, lineage=lineage, resume=run)
    if lineage and lineage.prompt:
        artifact = load_artifact(str(lineage.prompt.get("name")), prompts_dir)
        return Target(recorded, artifact=artifact, lineage=lineage, resume=run)
    return Target(recorded, lineage=lineage, resume=run)


def unredacted_endpoint(recorded: ExperimentConfig, config: Path | str | None) -> ExperimentConfig:
    """RECORDED as is, or, when its endpoint was stored redacted (credentials are never written), with the real
    URL from CONFIG, which must be the same endpoint."""
    stored = recorded.model.endpoint
    if MASK not in stored:
        return recorded
    if config is None:
        raise ConfigError(f"the run's endpoint is stored without its credentials ({stored}): resume with the "
                          "config that holds the real URL, `logeval evaluate CONFIG --resume RUN`")
    real = load_config(config).model.endpoint
    if redact_url(real) != stored:
        raise ConfigError(f"{config} points at {redact_url(real)}, but the run was scored on {stored}")
    return recorded.model_copy(update={"model": recorded.model.model_copy(update={"endpoint": real})})


def compiled_path(recorded: str) -> Path:
    """A compiled program path as a run recorded it; a relative one is relative to the checkout."""
    path = Path(recorded)
    return path if path.is_absolute() or path.exists() else PROJECT_ROOT / path


def resolve_target(config: Path | str | None = None, *, program: str | None = None, compiled: Path | None = None,
                   prompt: str | None = None, resume: str | None = None, runs_dir: Path, prompts_dir: Path,
                   endpoint: str | None = None) -> Target:
    """The Target of one `logeval evaluate`: --resume, --compiled, --prompt, or the config (with --program).

    Raises:
        ConfigError: options that name two different things to score.
    """
    chosen = [name for name, value in (("--resume", resume), ("--compiled", compiled), ("--prompt", prompt))
              if value is not None]
    if len(chosen) > 1:
        raise ConfigError(f"{' and '.join(chosen)} name different things to score: give one")
    if program is not None and (compiled is not None or prompt is not None or resume is not None):
        raise ConfigError(f"--program cannot change what {chosen[0]} scores")
    if resume is not None:
        return from_run(resume, runs_dir, prompts_dir=prompts_dir, config=config)
    if compiled is not None:
        return from_compiled(compiled, config=config)
    if prompt is not None:
        return from_prompt(prompt, prompts_dir, endpoint=endpoint)
    return from_config(config, program=program)


def recorded_request(run: RunFolder) -> tuple[str | None, str | None, int | None]:
    """(dataset, split, limit) a resumed RUN continues with: its recorded samples.json, or its dataset version
    when that file is gone (a run folder from another checkout)."""
    ds = run.config().dataset
    dataset = ds.path if ds.path and Path(ds.path).is_file() else ds.version
    return dataset, ds.split, ds.limit
