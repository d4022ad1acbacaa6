"""Compare two runs on the samples they share: paired bootstrap deltas, McNemar's exact test, a verdict.

Verdict rule (docs/metrics.md): B is *better* than A when the 95% paired bootstrap CI of the composite delta
lies above 0, or McNemar's exact test on root-cause correctness has p < 0.05 with more wrong→right than
right→wrong flips; *worse* in the mirror case; anything else (including evidence both ways) is no
significant difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.stats import binomtest

from dspy_logeval.core.errors import RunError
from dspy_logeval.runs.floors_view import verdict_lines
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.scoring import score_sample

SCORES = ("composite", "root_cause", "severity", "component", "action", "summary")
ALPHA = 0.05


@dataclass
class MetricDelta:
    """Mean of one per-sample score in A and B over the shared samples, B − A, and its paired 95% CI."""

    name: str
    a: float
    b: float
    delta: float
    ci: tuple[float, float]


@dataclass
class Comparison:
    """The result of compare_runs(A, B): what changed from A to B."""

    run_a: str
    run_b: str
    n_shared: int
    only_a: int
    only_b: int
    deltas: list[MetricDelta]
    wrong_to_right: list[str]
    right_to_wrong: list[str]
    mcnemar_p: float
    per_category: list[dict[str, Any]]
    verdict: str
    warnings: list[str] = field(default_factory=list)
    floor_notes: list[str] = field(default_factory=list)
    """Whether B beats the best no-LLM floor on its own samples (runs/floors_view.py); [] without floors."""

    def table_rows(self) -> list[tuple[str, str, str, str, str]]:
        """(metric, A, B, delta, 95% CI) as text, for a rich or markdown table."""
        return [(d.name, f"{d.a:.3f}", f"{d.b:.3f}", f"{d.delta:+.3f}", f"[{d.ci[0]:+.3f}, {d.ci[1]:+.3f}]")
                for d in self.deltas]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        """The comparison as a markdown document: verdict, deltas, McNemar, per-category, flipped samples."""
        lines = [f"# {self.run_b} vs {self.run_a}", "", f"**Verdict: {self.verdict}**", "",
                 *[f"- against the floor, {note}" for note in self.floor_notes], "",
                 *[f"> warning: {w}" for w in self.warnings],
                 f"{self.n_shared} shared samples ({self.only_a} only in A, {self.only_b} only in B).", "",
                 "| metric | A | B | B − A | 95% paired CI |", "|---|---|---|---|---|",
                 *[f"| {' | '.join(row)} |" for row in self.table_rows()], "",
                 f"McNemar exact test on root-cause correctness: {len(self.wrong_to_right)} wrong→right, "
                 f"{len(self.right_to_wrong)} right→wrong, p = {self.mcnemar_p:.4f}", "",
                 "| category | n | accuracy A | accuracy B | Δ accuracy | Δ composite |",
                 "|---|---|---|---|---|---|"]
        lines += [f"| {c['category']} | {c['n']} | {c['accuracy_a']:.3f} | {c['accuracy_b']:.3f} | "
                  f"{c['accuracy_delta']:+.3f} | {c['composite_delta']:+.3f} |" for c in self.per_category]
        lines += ["", f"Wrong → right: {', '.join(self.wrong_to_right) or 'none'}",
                  f"Right → wrong: {', '.join(self.right_to_wrong) or 'none'}"]
        return "\n".join(lines) + "\n"


def _dataset(run: RunFolder) -> tuple[Any, Any]:
    ds = run.config().dataset
    return ds.version, ds.sha256


def check_comparable(a: RunFolder, b: RunFolder, *, force: bool = False) -> list[str]:
    """Raise RunError when A and B were scored on different datasets (unless FORCE: then return a warning)."""
    da, db = _dataset(a), _dataset(b)
    if da == db:
        return []
    message = (f"{a.run_id} used dataset {da[0]} (sha256 {str(da[1])[:12]}) but {b.run_id} used {db[0]} "
               f"(sha256 {str(db[1])[:12]})")
    if not force:
        raise RunError(f"{message}: not comparable; pass --force to compare the shared samples anyway")
    return [message]


def _weights(run: RunFolder) -> Mapping[str, float]:
    return run.config().config.metrics.weights


def paired_bootstrap_ci(a: Sequence[float], b: Sequence[float], *, seed: int = 0, n_bootstrap: int = 2000
                        ) -> tuple[float, float]:
    """95% percentile bootstrap CI of mean(B − A), resampling samples (pairs kept together)."""
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(n_bootstrap, diff.size))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def mcnemar_exact(wrong_to_right: int, right_to_wrong: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs against p = 0.5."""
    n = wrong_to_right + right_to_wrong
    return float(binomtest(wrong_to_right, n, 0.5).pvalue) if n else 1.0


def verdict(composite_ci: tuple[float, float], *, wrong_to_right: int, right_to_wrong: int,
            p_value: float) -> str:
    """'better', 'worse' or 'no significant difference at 95%' by the rule in the module docstring."""
    better = composite_ci[0] > 0 or (p_value < ALPHA and wrong_to_right > right_to_wrong)
    worse = composite_ci[1] < 0 or (p_value < ALPHA and right_to_wrong > wrong_to_right)
    if better and not worse:
        return "better"
    if worse and not better:
        return "worse"
    return "no significant difference at 95%"


def _per_category(ids: Sequence[str], cats: Mapping[str, str], sa: Mapping[str, dict[str, float]],
                  sb: Mapping[str, dict[str, float]]) -> list[dict[str, Any]]:
    rows = []
    for cat in sorted({cats[i] for i in ids}):
        members = [i for i in ids if cats[i] == cat]
        acc_a = float(np.mean([sa[i]["root_cause"] for i in members]))
        acc_b = float(np.mean([sb[i]["root_cause"] for i in members]))
        comp = float(np.mean([sb[i]["composite"] - sa[i]["composite"] for i in members]))
        rows.append({"category": cat, "n": len(members), "accuracy_a": acc_a, "accuracy_b": acc_b,
                     "accuracy_delta": acc_b - acc_a, "composite_delta": comp})
    return rows


def compare_runs(a: RunFolder, b: RunFolder, *, force: bool = False, seed: int = 0,
                 n_bootstrap: int = 2000) -> Comparison:
    """Compare run B against baseline run A on their shared samples.

    Both runs are scored with A's composite weights so the deltas compare like with like.

    Raises:
        RunError: different datasets (unless FORCE), or no sample in common.
    """
    warnings = check_comparable(a, b, force=force)
    rec_a = {r.sample_id: r for r in a.records()}
    rec_b = {r.sample_id: r for r in b.records()}
    ids = sorted(set(rec_a) & set(rec_b))
    if not ids:
        raise RunError(f"{a.run_id} and {b.run_id} share no sample: nothing to compare")
    weights = _weights(a)
    sa = {i: score_sample(rec_a[i].actual, rec_a[i].predicted, weights=weights) for i in ids}
    sb = {i: score_sample(rec_b[i].actual, rec_b[i].predicted, weights=weights) for i in ids}
    deltas = []
    for k, name in enumerate(SCORES):
        xa, xb = [sa[i][name] for i in ids], [sb[i][name] for i in ids]
        ci = paired_bootstrap_ci(xa, xb, seed=seed + k, n_bootstrap=n_bootstrap)
        mean_a, mean_b = float(np.mean(xa)), float(np.mean(xb))
        deltas.append(MetricDelta(name, mean_a, mean_b, mean_b - mean_a, ci))
    up = [i for i in ids if sa[i]["root_cause"] < 1 <= sb[i]["root_cause"]]
    down = [i for i in ids if sb[i]["root_cause"] < 1 <= sa[i]["root_cause"]]
    p_value = mcnemar_exact(len(up), len(down))
    cats = {i: str(rec_a[i].category or "unknown") for i in ids}
    return Comparison(
        run_a=a.run_id, run_b=b.run_id, n_shared=len(ids), only_a=len(rec_a) - len(ids),
        only_b=len(rec_b) - len(ids), deltas=deltas, wrong_to_right=up, right_to_wrong=down,
        mcnemar_p=p_value,
        per_category=_per_category(ids, cats, sa, sb),
        verdict=verdict(deltas[0].ci, wrong_to_right=len(up), right_to_wrong=len(down), p_value=p_value),
        warnings=warnings, floor_notes=floor_notes(b))


def floor_notes(run: RunFolder) -> list[str]:
    """RUN's verdicts against the best no-LLM floor, from its metrics.json ([] when it has no floors)."""
    if not (run.path / "metrics.json").is_file():
        return []
    return verdict_lines(run.metrics(), who=run.run_id)
