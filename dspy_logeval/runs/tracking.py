"""MLflow tracking: a finished run folder logged as one MLflow run (params, metrics, artifacts, lineage tags).

The run folder stays the record; MLflow is a view of it for teams that already browse experiments there.
mlflow is an optional dependency (`pip install 'dspy-logeval[mlflow]'`) imported inside the functions, so the
CLI stays fast and nothing else needs it.

What is logged:
  params     the experiment config, flattened to dotted keys (llm_config.temperature), plus run.* (dataset, split)
  metrics    every number of runs/metric_keys.py under its short name, `<name>_ci_low` / `<name>_ci_high` for
             the ones with a bootstrap CI, and `floor.<floor>.<metric>` for each no-LLM floor
  artifacts  run/ (the run folder: config.json, results.jsonl, metrics.json, summary.md, report.html) and, for
             a compiled run, compiled/ (the program and its manifest)
  tags       logeval.run_id, logeval.experiment_id, logeval.dataset_version, logeval.dataset_sha256,
             logeval.git_commit (and mlflow.source.git.commit), logeval.compiled, logeval.compiled_from,
             logeval.optimizer, logeval.analyzer
"""

from __future__ import annotations

import importlib.util
import json
import logging
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from dspy_logeval.core.errors import TrackingError
from dspy_logeval.core.paths import manifest_path
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.metric_keys import METRICS, metric_ci, metric_value
from dspy_logeval.runs.record import RunRecord

log = logging.getLogger(__name__)
INSTALL_HINT = "pip install 'dspy-logeval[mlflow]'"


def require_mlflow() -> None:
    """Raise TrackingError at once when mlflow is not installed (before a run that would log to it)."""
    if importlib.util.find_spec("mlflow") is None:
        raise TrackingError(f"--mlflow needs the mlflow package, which is not installed: {INSTALL_HINT}")


def flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, text value) for every leaf of a nested mapping; lists and None as JSON."""
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from flatten(value, f"{name}.")
        else:
            yield name, value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def run_params(record: RunRecord) -> dict[str, str]:
    """The params of a run: its config flattened, plus what it scored."""
    params = dict(flatten(record.config.model_dump(mode="json")))
    ds = record.dataset
    params |= {"run.dataset_version": str(ds.version), "run.split": str(ds.split), "run.limit": str(ds.limit),
               "run.analyzer": record.analyzer, "run.endpoint": str(record.endpoint)}
    return params


def run_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Headline numbers with their CI bounds, and each floor's numbers, from a metrics.json dict."""
    out: dict[str, float] = {}
    for key in METRICS:
        value = metric_value(metrics, key.path)
        if isinstance(value, (int, float)):
            out[key.name] = float(value)
        ci = metric_ci(metrics, key.path)
        if ci is not None:
            out[f"{key.name}_ci_low"], out[f"{key.name}_ci_high"] = float(ci[0]), float(ci[1])
    for floor, numbers in (metrics.get("floors") or {}).items():
        out |= {f"floor.{floor}.{name}": float(v) for name, v in numbers.items() if isinstance(v, (int, float))}
    return out


def lineage_tags(record: RunRecord) -> dict[str, str]:
    """Where the run came from, as MLflow tags (only the ones known)."""
    lineage = record.lineage
    tags = {"logeval.run_id": record.run_id, "logeval.experiment_id": record.config.experiment_id,
            "logeval.dataset_version": record.dataset.version, "logeval.dataset_sha256": record.dataset.sha256,
            "logeval.git_commit": record.git_commit, "mlflow.source.git.commit": record.git_commit,
            "logeval.analyzer": record.analyzer,
            "logeval.compiled": lineage.compiled if lineage else None,
            "logeval.compiled_from": lineage.compiled_from if lineage else None,
            "logeval.optimizer": lineage.optimizer if lineage else None}
    return {k: str(v) for k, v in tags.items() if v is not None}


def log_run(run: RunFolder, tracking_uri: str, *, experiment: str | None = None) -> str:
    """Log RUN (finished: metrics.json written) to the MLflow tracking server at TRACKING_URI.

    Args:
        run: the run folder.
        tracking_uri: http(s)://host:port of a tracking server, or any URI mlflow accepts (sqlite:///mlflow.db).
        experiment: MLflow experiment name (default: the run's experiment_id); created when missing.

    Returns:
        The MLflow run id.

    Raises:
        TrackingError: mlflow not installed, the server unreachable, or it refused what was logged.
    """
    require_mlflow()
    from mlflow.exceptions import MlflowException

    _check_reachable(tracking_uri)
    record = run.config()
    try:
        return _log(run, record, tracking_uri, experiment or record.config.experiment_id)
    except MlflowException as exc:
        raise TrackingError(f"MLflow at {tracking_uri} refused run {run.run_id}: {exc.message}") from None


def _check_reachable(uri: str) -> None:
    # mlflow retries an unreachable server for minutes; one quick look says it at once
    if not uri.startswith(("http://", "https://")):
        return
    try:
        httpx.get(f"{uri.rstrip('/')}/health", timeout=10.0).raise_for_status()
    except httpx.HTTPError as exc:
        raise TrackingError(f"MLflow tracking server {uri} is not reachable ({exc}); start it or fix --mlflow"
                            ) from None


def _log(run: RunFolder, record: RunRecord, uri: str, experiment: str) -> str:
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
    mlflow_run = client.create_run(experiment_id, run_name=run.run_id, tags=lineage_tags(record))
    run_id: str = mlflow_run.info.run_id
    now = int(time.time() * 1000)
    try:
        params = [Param(k, v[:6000]) for k, v in run_params(record).items()]  # MLflow's longest param value
        for start in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            client.log_batch(run_id, params=params[start:start + 100])
        client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in run_metrics(run.metrics()).items()])
        client.log_artifacts(run_id, str(run.path), artifact_path="run")
        _log_compiled(client, run_id, record)
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id


def _log_compiled(client: Any, run_id: str, record: RunRecord) -> None:
    compiled = record.lineage.compiled if record.lineage else None
    if not compiled:
        return
    path = Path(compiled)
    if not path.is_file():
        log.warning("compiled program %s of %s is not here; not logged to MLflow", path, record.run_id)
        return
    for part in (path, manifest_path(path)):
        if part.is_file():
            client.log_artifact(run_id, str(part), artifact_path="compiled")
