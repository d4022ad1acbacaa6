"""dspy-logeval: measure and improve LLM-powered Kubernetes log analysis with DSPy.

The public surface, imported lazily so that `dspy_logeval.serve` (the production path) never loads DSPy.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

# litellm (under dspy) fetches its model cost map over the network at import unless told otherwise: never wait on
# that (this machine may have no internet), whichever module of the package is imported first.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_EXPORTS = {
    "Analysis": "serve.analyzer", "LogAnalyzer": "serve.analyzer", "LogEntry": "serve.analyzer",
    "compare_runs": "runs.compare", "ExperimentConfig": "core.config", "load_config": "core.config",
    "Dataset": "data.dataset", "Sample": "data.dataset", "load_dataset": "data.dataset",
    "LogevalError": "core.errors", "composite_metric": "runs.scoring", "compute_metrics": "runs.metrics",
    "OptimizeOptions": "optimize.optimizers", "optimize_program": "optimize.compile", "EvalRequest": "eval.runner",
    "evaluate_experiment": "eval.runner", "RunFolder": "runs.folder",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dspy_logeval' has no attribute {name!r}")
    return getattr(import_module(f"dspy_logeval.{_EXPORTS[name]}"), name)
