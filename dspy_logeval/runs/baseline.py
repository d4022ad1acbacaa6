"""The baseline of a run: the newest uncompiled run of the same experiment config on the same dataset.

`logeval optimize` reuses it instead of scoring the baseline again, and `logeval gate --against baseline`
tests a run against it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from dspy_logeval.core.config import ExperimentConfig
from dspy_logeval.runs.folder import RunFolder, list_runs

ANY: Literal["any"] = "any"
"""Accept any recorded --limit."""

NEUTRAL_FIELDS = ("description", "runtime", "gate", "tracking", "metrics.threshold", "metrics.bootstrap_pass")
"""Config fields that change neither a run's predictions nor its scores (timeouts and retries, optimizer and gate
settings, prose): a baseline run that differs from the config only there is still its baseline."""


def scored_config(config: dict[str, Any]) -> dict[str, Any]:
    """CONFIG (a dumped experiment config) without its NEUTRAL_FIELDS."""
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in config.items()}
    for path in NEUTRAL_FIELDS:
        section, _, leaf = path.partition(".")
        if not leaf:
            out.pop(section, None)
        elif isinstance(out.get(section), dict):
            out[section].pop(leaf, None)
    return out


def find_baseline(config: ExperimentConfig, *, runs_dir: Path, sha256: str | None, split: str | None = "test",
                  limit: int | None | Literal["any"] = ANY, n_samples: int | None = None,
                  exclude: str | None = None, before: str | None = None) -> RunFolder | None:
    """The newest scored run of CONFIG with no lineage on the dataset SHA256 and SPLIT, if any.

    Args:
        config: the experiment config the baseline must have been run with, field for field except the
            NEUTRAL_FIELDS.
        runs_dir: where run folders live.
        sha256: the dataset's sha256 (the same samples, labels included).
        split: the split it scored (None: any).
        limit: its --limit (None: none; ANY: whatever it was).
        n_samples: how many samples its metrics.json must count (None: any).
        exclude: a run id never to return (the run being gated).
        before: only runs whose id sorts before it (older runs; None: any).
    """
    wanted = scored_config(config.model_dump(mode="json"))
    for run in reversed(list_runs(runs_dir)):
        if run.run_id == exclude or (before is not None and run.run_id >= before) \
                or not (run.path / "metrics.json").is_file():
            continue
        record = run.config()
        ds = record.dataset
        if (scored_config(record.config.model_dump(mode="json")) == wanted and record.lineage is None
                and ds.sha256 == sha256 and (split is None or ds.split == split) and (limit == ANY or ds.limit == limit)
                and (n_samples is None or run.metrics().get("n_samples") == n_samples)):
            return run
    return None


def baseline_of(run: RunFolder, runs_dir: Path) -> RunFolder | None:
    """RUN's baseline: for a compiled run, the newest run of the config it was compiled from; otherwise the
    newest earlier run of its own config (on the same dataset and split)."""
    record = run.config()
    config = record.config
    before: str | None = run.run_id
    if record.lineage is not None and record.lineage.compiled_from:
        # optimize scores the baseline after the compiled program, so it may be newer
        config, before = config.model_copy(update={"experiment_id": record.lineage.compiled_from}), None
    return find_baseline(config, runs_dir=runs_dir, sha256=record.dataset.sha256, split=record.dataset.split,
                         exclude=run.run_id, before=before)
