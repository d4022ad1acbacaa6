"""export: a DSPy program (a run's, a compiled one, or a bare template) → a prompt artifact.

The messages come from the project adapter's own `format()` with the `{{logs}}` placeholder as the logs input,
so filling the placeholder gives byte-for-byte the messages the program sends (tests/test_export.py checks it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dspy

from dspy_logeval.core.config import ExperimentConfig, load_config, validate_config
from dspy_logeval.core.errors import ArtifactError
from dspy_logeval.core.paths import PROMPTS_DIR
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.data.taxonomy import load_taxonomy
from dspy_logeval.eval.compiled import load_compiled, manifest_path
from dspy_logeval.eval.resolve import from_run, recorded_request
from dspy_logeval.lm.adapter import SchemaJSONAdapter, response_format
from dspy_logeval.runs.metric_keys import HEADLINE, metric_value
from dspy_logeval.serve.prompt_artifact import (
    ARTIFACT_FORMAT_VERSION,
    PLACEHOLDER,
    PromptArtifact,
    artifact_path,
    check_artifact,
    next_version,
    now_iso,
    save_artifact,
)
from programs.knn import KNN
from programs.two_stage import TwoStage
from signatures.two_stage import narrowed


@dataclass(frozen=True)
class ProgramSource:
    """A program ready to run, the config it was evaluated with, and where it came from."""

    program: dspy.Module
    config: ExperimentConfig
    provenance: dict[str, Any]


def compact_metrics(metrics: dict[str, Any] | None) -> dict[str, Any]:
    """The headline numbers of a metrics.json (or an already compact dict) for an artifact's provenance."""
    if not metrics:
        return {}
    out: dict[str, Any] = {}
    for key in HEADLINE:
        value = metric_value(metrics, key.path)
        if value is None:
            value = metrics.get(key.leaf)
        if value is not None:
            out[key.leaf] = value
    return out


def source_from_run(ref: str, runs_dir: Path) -> ProgramSource:
    """The program a run evaluated (resolved as `evaluate --resume` resolves it): compiled, or its config's."""
    target = from_run(ref, runs_dir, prompts_dir=PROMPTS_DIR)
    run = target.resume
    assert run is not None
    if target.artifact is not None:
        raise ArtifactError(f"{run.run_id} scored the prompt artifact {target.artifact.name!r}: it is exported "
                            "already (artifacts/prompts/)")
    record = run.config()
    program = target.program
    if program is None:
        from dspy_logeval.eval.runner import build_program

        dataset = recorded_request(run)[0] or target.config.dataset.version
        program = build_program(target.config, load_dataset(dataset))
    metrics = run.metrics() if (run.path / "metrics.json").is_file() else None
    return ProgramSource(program, target.config, {
        "source_run": run.run_id, "compiled": target.lineage.compiled if target.lineage else None,
        "dataset": {"version": record.dataset.version, "sha256": record.dataset.sha256},
        "test_metrics": compact_metrics(metrics), "config": target.config.model_dump(mode="json")})


def source_from_compiled(path: Path) -> ProgramSource:
    """A compiled program and the provenance its manifest records."""
    program, manifest = load_compiled(path)
    config = validate_config(manifest["config"], source=str(manifest_path(path)))
    return ProgramSource(program, config, {
        "source_run": manifest.get("test_run_id"), "compiled": str(path), "dataset": manifest.get("dataset") or {},
        "test_metrics": compact_metrics(manifest.get("test_metrics")), "config": config.model_dump(mode="json")})


def source_from_template(template: str, *, program: str = "predict", config: Path | None = None) -> ProgramSource:
    """A bare template: PROGRAM on TEMPLATE with the sampling of CONFIG (default: the baseline config); fewshot
    and knn take their demos from the config's dataset's train split, as `evaluate` does."""
    from dspy_logeval.eval.runner import build_program

    base = load_config(config).model_dump(mode="json")
    cfg = validate_config({**base, "program": program, "prompt": {**base["prompt"], "template": template}},
                          source="--template")
    return ProgramSource(build_program(cfg, load_dataset(cfg.dataset.version)), cfg,
                         {"source_run": None, "compiled": None, "dataset": {}, "test_metrics": {},
                          "config": cfg.model_dump(mode="json")})


def resolve_source(ref: str | None, *, template: str | None, runs_dir: Path, program: str = "predict",
                   config: Path | None = None) -> ProgramSource:
    """A ProgramSource from a run id, a compiled program path, or a template name."""
    if (ref is None) == (template is None):
        raise ArtifactError("give either RUN_ID|COMPILED_PATH or --template NAME, not both or neither")
    if template is not None:
        return source_from_template(template, program=program, config=config)
    assert ref is not None
    if ref.endswith(".json"):
        return source_from_compiled(Path(ref))
    return source_from_run(ref, runs_dir)


def single_predictor(program: dspy.Module) -> dspy.Predict:
    """The one predictor a program calls (cot: analyze.predict); several cannot become one request."""
    predictors = program.named_predictors()
    if len(predictors) != 1:
        names = ", ".join(name for name, _ in predictors)
        raise ArtifactError(f"the program has {len(predictors)} predictors ({names}); an artifact holds one request")
    return predictors[0][1]


def program_messages(predictor: dspy.Predict, logs: str) -> list[dict[str, Any]]:
    """The messages the adapter builds for LOGS: exactly what the program sends."""
    messages: list[dict[str, Any]] = SchemaJSONAdapter().format(predictor.signature, predictor.demos, {"logs": logs})
    return messages


def build_artifact(source: ProgramSource, *, name: str, version: int = 1) -> PromptArtifact:
    """The prompt artifact of SOURCE's program: placeholder messages, demos, schema, sampling, provenance."""
    retrieval = stages = None
    if isinstance(source.program, KNN):  # demos per request: the artifact carries the pool, not fixed demos
        predictor, retrieval = source.program.analyze, knn_retrieval(source.program)
    elif isinstance(source.program, TwoStage):  # two requests: the category, then the narrowed analysis
        predictor, stages = source.program.categorize, two_stage_stages(source.program)
    else:
        predictor = single_predictor(source.program)
    demos = [d.toDict() if hasattr(d, "toDict") else dict(d) for d in predictor.demos]
    artifact = PromptArtifact.model_validate({
        "format_version": ARTIFACT_FORMAT_VERSION, "name": name, "version": version,
        "messages": program_messages(predictor, PLACEHOLDER),
        "demos": json.loads(json.dumps(demos, default=str)),
        "response_format": response_format(predictor.signature),
        "sampling": source.config.llm_config.model_dump(), "model": source.config.model.name,
        "program": source.config.program, "template": source.config.prompt.template,
        "provenance": source.provenance, "created": now_iso(), "retrieval": retrieval, "stages": stages})
    return check_artifact(artifact, where=f"export {name}")


def two_stage_stages(program: TwoStage) -> dict[str, Any]:
    """The second request of a two_stage program for every category: its messages and its narrowed schema."""
    predictor = program.analyze
    by_category = {}
    for category in load_taxonomy().categories:
        signature = narrowed(predictor.signature, category)
        messages = SchemaJSONAdapter().format(signature, predictor.demos, {"logs": PLACEHOLDER})
        by_category[category] = {"messages": messages, "response_format": response_format(signature)}
    return {"by_category": by_category}


def knn_retrieval(program: KNN) -> dict[str, Any]:
    """The knn program's pool as an artifact's retrieval block: each demo's logs and the two messages the adapter
    renders for it (a demo renders the same alone as among others, so they can be joined per request)."""
    signature = program.analyze.signature
    pool = []
    for demo in program.pool.demos:
        messages = SchemaJSONAdapter().format(signature, [demo], {"logs": PLACEHOLDER})
        pool.append({"logs": demo["logs"], "messages": messages[1:3]})
    return {"k": program.k, "pool": pool}


def export_prompt(source: ProgramSource, *, name: str, prompts_dir: Path, force: bool = False
                  ) -> tuple[PromptArtifact, Path]:
    """Write SOURCE's artifact as PROMPTS_DIR/NAME.json; refuse to overwrite unless FORCE (then version + 1)."""
    artifact_path(name, prompts_dir)  # validates the name before any work
    version = next_version(name, prompts_dir, force=force)
    artifact = build_artifact(source, name=name, version=version)
    return artifact, save_artifact(artifact, prompts_dir)
