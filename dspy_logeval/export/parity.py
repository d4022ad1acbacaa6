"""Parity: a DSPy program and its prompt artifact on the same samples and server, temperature 0.

`verify_parity` counts identical predictions and the metric gap, so an export is proven before it ships.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dspy

from dspy_logeval.core.config import ExperimentConfig, ModelConfig
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.eval.predict import predict_one
from dspy_logeval.eval.production import production_record
from dspy_logeval.eval.runner import select_samples
from dspy_logeval.export.artifact import ProgramSource
from dspy_logeval.lm.adapter import SchemaJSONAdapter
from dspy_logeval.lm.dspy_lm import build_lm
from dspy_logeval.lm.endpoint import Endpoint
from dspy_logeval.runs.metric_keys import HEADLINE, metric_value
from dspy_logeval.runs.metrics import compute_metrics
from dspy_logeval.runs.record import SampleRecord
from dspy_logeval.serve.analyzer import LogAnalyzer
from dspy_logeval.serve.prompt_artifact import PromptArtifact, now_iso, save_artifact
from dspy_logeval.serve.session import production_analyzer

COMPARED_METRICS = tuple(key.path for key in HEADLINE if key.name != "n_samples")
REQUIRED_IDENTICAL = 0.99
"""The share of identical predictions an export must reach before it ships (`export --verify` exits 3 below it)."""


@dataclass
class ParityReport:
    """How often the DSPy program and the production analyzer gave the same answer, and the metric gap."""

    n: int
    identical: int
    metrics_dspy: dict[str, float] = field(default_factory=dict)
    metrics_production: dict[str, float] = field(default_factory=dict)
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identical_share(self) -> float:
        return self.identical / self.n if self.n else 0.0

    @property
    def passed(self) -> bool:
        return self.n > 0 and self.identical_share >= REQUIRED_IDENTICAL

    def record(self, *, dataset: str, split: str, limit: int | None) -> dict[str, Any]:
        """What the artifact's provenance keeps of this check (`parity`)."""
        return {"n": self.n, "identical": self.identical, "identical_share": round(self.identical_share, 4),
                "required": REQUIRED_IDENTICAL, "passed": self.passed, "dataset": dataset, "split": split,
                "limit": limit, "differences": {k: round(v, 4) for k, v in self.differences().items()},
                "checked": now_iso()}

    def differences(self) -> dict[str, float]:
        """production − DSPy for each compared metric."""
        return {k: self.metrics_production[k] - self.metrics_dspy[k] for k in self.metrics_dspy}


def _pick(metrics: dict[str, Any]) -> dict[str, float]:
    return {path: float(metric_value(metrics, path)) for path in COMPARED_METRICS}


def verify_parity(source: ProgramSource, artifact: PromptArtifact, *, dataset: str | None = None,
                  split: str = "test", limit: int | None = None, endpoint: str | None = None) -> ParityReport:
    """Run SOURCE's program and ARTIFACT through LogAnalyzer on the same samples and server, temperature 0."""
    config = source.config
    model = config.model if endpoint is None else config.model.model_copy(update={"endpoint": endpoint})
    samples = select_samples(load_dataset(dataset or config.dataset.version), split, limit)
    llm = config.llm_config.model_copy(update={"temperature": 0.0})
    weights = config.metrics.weights
    with production_analyzer(artifact, model, timeout=config.runtime.request_timeout,
                             retries=config.runtime.retries, temperature=0.0) as analyzer:
        lm = build_lm(_endpoint_of(analyzer, model), llm, config.runtime, api_key_env=model.api_key_env)
        with dspy.context(lm=lm, adapter=SchemaJSONAdapter(), track_usage=True):
            dspy_records = [predict_one(source.program, s, weights=weights) for s in samples]
        prod_records = [production_record(analyzer, s, weights=weights) for s in samples]
    return _compare(dspy_records, prod_records, config)


def _endpoint_of(analyzer: LogAnalyzer, model: ModelConfig) -> Endpoint:
    return Endpoint(analyzer.llm_url, analyzer.model_name, None, None, embedded=model.endpoint == "embedded")


def _compare(dspy_records: list[SampleRecord], prod_records: list[SampleRecord],
             config: ExperimentConfig) -> ParityReport:
    same = [a.predicted == b.predicted and a.error_kind == b.error_kind
            for a, b in zip(dspy_records, prod_records, strict=True)]
    mismatches = [{"sample_id": a.sample_id, "dspy": a.predicted or a.error, "production": b.predicted or b.error}
                  for a, b, ok in zip(dspy_records, prod_records, same, strict=True) if not ok]

    def scored(records: list[SampleRecord]) -> dict[str, float]:
        return _pick(compute_metrics([r.to_json() for r in records], weights=config.metrics.weights,
                                     seed=config.seed))

    return ParityReport(n=len(same), identical=sum(same), metrics_dspy=scored(dspy_records),
                        metrics_production=scored(prod_records), mismatches=mismatches)


def record_parity(artifact: PromptArtifact, report: ParityReport, prompts_dir: Path, *, dataset: str, split: str,
                  limit: int | None) -> PromptArtifact:
    """Save ARTIFACT again with the parity check in its provenance, so whoever ships it can see it was proven."""
    parity = report.record(dataset=dataset, split=split, limit=limit)
    checked = artifact.model_copy(update={"provenance": {**artifact.provenance, "parity": parity}})
    save_artifact(checked, prompts_dir)
    return checked
