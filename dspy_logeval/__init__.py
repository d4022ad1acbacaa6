"""dspy-logeval: measure and improve LLM-powered Kubernetes log analysis with DSPy.

The public surface, imported lazily so that `dspy_logeval.analyzer` (the production path) never loads DSPy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Analysis": "analyzer", "LLMConfig": "analyzer", "LogAnalyzer": "analyzer", "LogEntry": "analyzer",
    "compare_runs": "compare", "ExperimentConfig": "config", "load_config": "config",
    "Dataset": "dataset", "Sample": "dataset", "load_dataset": "dataset", "LogevalError": "errors",
    "composite_metric": "metrics", "compute_metrics": "metrics", "OptimizeOptions": "optimizers",
    "optimize_program": "optimize", "EvalRequest": "runner", "evaluate_experiment": "runner",
    "RunFolder": "runs",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dspy_logeval' has no attribute {name!r}")
    return getattr(import_module(f"dspy_logeval.{_EXPORTS[name]}"), name)
