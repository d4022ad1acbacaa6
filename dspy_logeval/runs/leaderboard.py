"""The leaderboard: one row per scored run folder, rebuilt under a file lock into leaderboard.json and the
leaderboard.html beside it (ranking in runs.ranking, the page in runs.leaderboard_html)."""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dspy_logeval.core.errors import LogevalError, RunError
from dspy_logeval.core.files import write_json_atomic
from dspy_logeval.runs.folder import RunFolder, list_runs
from dspy_logeval.runs.leaderboard_html import write_leaderboard_html
from dspy_logeval.runs.metric_keys import BY_NAME, metric_value
from dspy_logeval.runs.ranking import COLUMNS, ROW_METRICS, SORTABLE, pareto_front, ranked, sort_rows
from dspy_logeval.runs.record import RUN_FORMAT_VERSION, RunRecord

__all__ = ["COLUMNS", "SORTABLE", "collect_rows", "leaderboard_row", "pareto_front", "ranked", "read_leaderboard",
           "rebuild_leaderboard", "sort_rows", "write_leaderboard_html"]

log = logging.getLogger(__name__)

def _timestamp(run: RunFolder, config: RunRecord) -> str:
    try:
        stamp = datetime.strptime(run.run_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)
        return stamp.isoformat()
    except ValueError:
        return str(config.created or "")


def _number(value: Any) -> float | int | None:
    """A metric as the leaderboard holds it: a number, or None (a hand-edited or damaged metrics.json)."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def leaderboard_row(run: RunFolder) -> dict[str, Any]:
    """The leaderboard row of one run folder (config.json + metrics.json)."""
    config, metrics = run.config(), run.metrics()
    cfg, dataset = config.config, config.dataset
    return {
        "experiment_id": cfg.experiment_id, "run_id": run.run_id, "run_timestamp": _timestamp(run, config),
        "model_name": cfg.model.name, "program": cfg.program, "prompt_template": cfg.prompt.template,
        "dataset_version": dataset.version, "split": dataset.split, "n_samples": metrics.get("n_samples"),
        "git_commit": config.git_commit,
        **{name: _number(metric_value(metrics, BY_NAME[name].path)) for name in ROW_METRICS},
    }


@contextmanager
def file_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive fcntl lock on <target>.lock, so two finishing evaluations rebuild one at a time."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def collect_rows(runs_dir: Path) -> list[dict[str, Any]]:
    """Rows of every complete run folder under RUNS_DIR with a readable metrics.json, oldest first (a run that
    stopped or left LM-side failures stays off until it is resumed)."""
    rows = []
    for run in list_runs(runs_dir):
        if not (run.path / "metrics.json").is_file():
            continue
        try:
            if run.state().status == "complete":
                rows.append(leaderboard_row(run))
        except (LogevalError, TypeError, ValueError, AttributeError) as exc:  # one broken folder (even a
            log.warning("skipping %s: %s", run.run_id, exc)  # wrong-typed metrics.json) must not hide the rest
    return rows


def rebuild_leaderboard(runs_dir: Path, out: Path) -> list[dict[str, Any]]:
    """Rebuild OUT (leaderboard.json) and leaderboard.html beside it from every scored run under RUNS_DIR,
    atomically and under a lock.

    Returns:
        The rows written, oldest run first.
    """
    try:
        with file_lock(out):
            rows = collect_rows(runs_dir)
            write_json_atomic(out, {"format_version": RUN_FORMAT_VERSION,
                                    "updated": datetime.now(timezone.utc).isoformat(), "rows": rows})
            write_leaderboard_html(rows, out.with_suffix(".html"), runs_dir=runs_dir)
    except OSError as exc:
        raise RunError(f"cannot update the leaderboard {out}: {exc.strerror or exc} (the run folders are "
                       "written; `logeval leaderboard` rebuilds it)") from None
    return rows


def read_leaderboard(path: Path) -> list[dict[str, Any]]:
    """The rows of a leaderboard.json ([] when it does not exist yet)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except json.JSONDecodeError as exc:
        raise RunError(f"{path} is not valid JSON: {exc}; rebuild it with `logeval leaderboard`") from exc
    return list(data.get("rows", [])) if isinstance(data, dict) else list(data)


