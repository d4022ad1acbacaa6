"""The gate: does a finished run meet its thresholds, and is it not significantly worse than a reference run?

Pure functions over run folders. Thresholds name metrics of runs/metric_keys.py (short name or dotted path);
the reference comparison is compare_runs (paired bootstrap CI on composite, McNemar on root cause) and fails
only on the verdict 'worse'. `logeval gate` exits 0 when every check passes, 3 when one fails, 1 on an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dspy_logeval.core.config import GateConfig
from dspy_logeval.core.errors import ConfigError, RunError
from dspy_logeval.runs.baseline import baseline_of
from dspy_logeval.runs.compare import Comparison, check_comparable, compare_runs
from dspy_logeval.runs.folder import RunFolder, resolve_run
from dspy_logeval.runs.metric_keys import SORTABLE, MetricKey, format_value, metric_ci, metric_key, metric_value

Bound = Literal["min", "max"]
PRODUCTION = "production"
BASELINE = "baseline"
SAME_DATASET = ("score the run on the reference's dataset (`logeval evaluate ... --dataset VERSION`), or score "
                "and promote a prompt on the run's dataset")


def _same_dataset_hint(exc: RunError) -> str:
    # compare's message ends by offering --force, which the gate does not take
    return f"{str(exc).split(': not comparable')[0]}: not comparable; {SAME_DATASET}"


@dataclass(frozen=True)
class Threshold:
    """One bound on one metric: value >= limit (min) or value <= limit (max)."""

    key: MetricKey
    bound: Bound
    limit: float


@dataclass(frozen=True)
class Check:
    """One line of the gate's output."""

    name: str
    value: str
    threshold: str
    passed: bool


@dataclass
class GateResult:
    """Every check of one run and, with a reference, the comparison behind the last one."""

    run_id: str
    checks: list[Check]
    comparison: Comparison | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


def parse_thresholds(specs: Iterable[str], bound: Bound) -> dict[str, Threshold]:
    """Thresholds from NAME=VALUE texts (--min composite=0.3), keyed by metric name.

    Raises:
        ConfigError: not NAME=VALUE, an unknown metric (the message lists the names) or VALUE not a number.
    """
    parsed: dict[str, float] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--{bound} {spec!r}: expected NAME=VALUE, e.g. --{bound} composite=0.3")
        try:
            parsed[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--{bound} {spec!r}: {value!r} is not a number") from None
    return thresholds_from(parsed, bound)


def thresholds_from(limits: Mapping[str, float], bound: Bound) -> dict[str, Threshold]:
    """Thresholds from a {metric: limit} mapping (a config's gate.min / gate.max)."""
    out = {}
    for name, limit in limits.items():
        try:
            key = metric_key(name)
        except ValueError:
            raise ConfigError(f"--{bound}: unknown metric {name!r}; known: {', '.join(SORTABLE)}") from None
        out[key.name] = Threshold(key, bound, float(limit))
    return out


def merged_thresholds(config: GateConfig | None, *, mins: Sequence[str], maxs: Sequence[str]) -> list[Threshold]:
    """The run config's gate thresholds, overridden by name by the command line's --min / --max."""
    merged: dict[tuple[str, Bound], Threshold] = {}
    sources = [thresholds_from(config.min, "min"), thresholds_from(config.max, "max")] if config else []
    sources += [parse_thresholds(mins, "min"), parse_thresholds(maxs, "max")]
    for source in sources:
        merged |= {(name, t.bound): t for name, t in source.items()}
    return list(merged.values())


def check_threshold(metrics: Mapping[str, object], threshold: Threshold) -> Check:
    """Whether a run's metrics.json meets THRESHOLD; a missing value fails."""
    key = threshold.key
    value = metric_value(metrics, key.path)
    sign = ">=" if threshold.bound == "min" else "<="
    text = f"{sign} {format_value(threshold.limit, key.unit)}"
    if not isinstance(value, (int, float)):
        return Check(key.name, "missing in metrics.json", text, False)
    ok = value >= threshold.limit if threshold.bound == "min" else value <= threshold.limit
    return Check(key.name, format_value(value, key.unit), text, bool(ok))


def check_reference(reference: RunFolder, run: RunFolder, *, label: str, seed: int = 0) -> tuple[Check, Comparison]:
    """RUN against REFERENCE on their shared samples: fails only when compare's verdict is 'worse'.

    Raises:
        RunError: the two runs scored different datasets, or share no sample.
    """
    try:
        check_comparable(reference, run)
    except RunError as exc:
        raise RunError(f"{label} reference {reference.run_id} cannot be compared: {_same_dataset_hint(exc)}") from None
    comparison = compare_runs(reference, run, seed=seed)
    delta = comparison.deltas[0]
    value = (f"composite {delta.delta:+.3f} [{delta.ci[0]:+.3f}, {delta.ci[1]:+.3f}], McNemar "
             f"{len(comparison.wrong_to_right)}↑ {len(comparison.right_to_wrong)}↓ p={comparison.mcnemar_p:.3f}: "
             f"{comparison.verdict}")
    return Check(f"vs {label} {reference.run_id}", value, "not worse", comparison.verdict != "worse"), comparison


@dataclass(frozen=True)
class RecordedReference:
    """Production known only by the test metrics its prompt artifact recorded: its source run is not in this
    runs dir (a fresh CI clone, the nightly's volume). Compared unpaired, so only a clear drop fails."""

    label: str
    composite: float
    dataset_sha256: str | None
    dataset_version: str | None = None
    n_samples: int | None = None


def production_reference(provenance: Mapping[str, Any], *, runs_dir: Path) -> RunFolder | RecordedReference:
    """Production's source run when it is here (paired test), else what its artifact recorded (unpaired).

    PROVENANCE is serve.promotion.production_provenance's dict: name, version, source_run, dataset, test_metrics.
    """
    who = f"production {provenance.get('name')} v{provenance.get('version')}"
    source = provenance.get("source_run")
    if source:
        try:
            return resolve_run(str(source), runs_dir)
        except RunError:
            pass
    recorded = provenance.get("test_metrics") or {}
    composite = recorded.get("composite")
    if not isinstance(composite, (int, float)):
        where = f"its source run {source} is not in {runs_dir}" if source else "it records no source run"
        raise RunError(f"--against production: {where}, and {who} records no test composite to compare with; "
                       "promote a prompt exported from a scored run")
    n = recorded.get("n_samples")
    dataset = provenance.get("dataset") or {}
    return RecordedReference(f"{who} (recorded; source run {source or 'unknown'} not here)", float(composite),
                             dataset.get("sha256"), dataset.get("version"), n if isinstance(n, int) else None)


def check_recorded(run: RunFolder, metrics: Mapping[str, Any], reference: RecordedReference) -> Check:
    """Unpaired: RUN is worse when the upper bound of its composite's 95% CI is below the recorded composite."""
    ds = run.config().dataset
    if reference.dataset_sha256 and ds.sha256 != reference.dataset_sha256:
        raise RunError(f"{run.run_id} scored {ds.version} (sha256 {str(ds.sha256)[:12]}), but {reference.label} was "
                       f"scored on {reference.dataset_version} (sha256 {reference.dataset_sha256[:12]}): not "
                       f"comparable; {SAME_DATASET}")
    value = float(metric_value(metrics, "composite") or 0.0)
    low, high = metric_ci(metrics, "composite") or [value, value]
    worse = high < reference.composite
    n = f" on {reference.n_samples} samples" if reference.n_samples else ""
    text = (f"composite {value:.3f} [{low:.3f}, {high:.3f}] vs recorded {reference.composite:.3f}{n} (unpaired): "
            f"{'worse' if worse else 'not significantly worse'}")
    return Check(f"vs {reference.label}", text, "not worse", not worse)


def reference_run(against: str, run: RunFolder, *, runs_dir: Path,
                  production: Mapping[str, Any] | None = None) -> RunFolder | RecordedReference:
    """The reference to test RUN against: 'production' (PRODUCTION: the promoted prompt's provenance, see
    production_reference), 'baseline' (runs/baseline.py) or a run id/folder.

    Raises:
        RunError: no production provenance given, no baseline run, or no such run.
    """
    if against == PRODUCTION:
        if production is None:
            raise RunError("--against production: no prompt is promoted (`logeval promote NAME`)")
        return production_reference(production, runs_dir=runs_dir)
    if against == BASELINE:
        found = baseline_of(run, runs_dir)
        if found is None:
            record = run.config()
            raise RunError(f"--against baseline: no scored run of {record.config.experiment_id} without lineage on "
                           f"dataset {record.dataset.version} ({record.dataset.split}) in {runs_dir}")
        return found
    return resolve_run(against, runs_dir)


def gate_run(run: RunFolder, *, thresholds: Sequence[Threshold],
             reference: RunFolder | RecordedReference | None = None, reference_label: str = "run") -> GateResult:
    """Check RUN's metrics.json against THRESHOLDS and, with REFERENCE, that it is not significantly worse.

    Raises:
        RunError: RUN has no metrics.json, nothing to check, or RUN and REFERENCE are not comparable.
    """
    if not thresholds and reference is None:
        raise RunError("nothing to gate: give --min NAME=VALUE, --max NAME=VALUE or --against, "
                       "or a gate: section in the experiment config")
    if not (run.path / "metrics.json").is_file():
        raise RunError(f"{run.run_id} has no metrics.json; rebuild it with `logeval report {run.run_id}`")
    metrics = run.metrics()
    result = GateResult(run.run_id, [check_threshold(metrics, t) for t in thresholds])
    if isinstance(reference, RecordedReference):
        result.checks.append(check_recorded(run, metrics, reference))
    elif reference is not None:
        check, comparison = check_reference(reference, run, label=reference_label, seed=run.config().seed or 0)
        result.checks.append(check)
        result.comparison = comparison
        result.warnings += comparison.warnings
    return result
