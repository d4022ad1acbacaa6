"""compare_runs: identical runs, a broken run, dataset checks, McNemar and the verdict rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from runs_factory import SAMPLES, make_run, record, wrong

from dspy_logeval.core.errors import RunError
from dspy_logeval.runs.compare import compare_runs, mcnemar_exact, paired_bootstrap_ci, verdict


def _samples(n: int) -> list[dict]:
    return [{**SAMPLES[i % 4], "sample_id": f"gv1-{i:03d}"} for i in range(n)]


def test_identical_runs_show_no_significant_difference(tmp_path: Path) -> None:
    records = [record(s) if i % 3 else record(s, wrong(s)) for i, s in enumerate(_samples(12))]
    a = make_run(tmp_path, "a", records)
    b = make_run(tmp_path, "b", records, stamp="20250102-120000")
    result = compare_runs(a, b, n_bootstrap=300)
    assert result.verdict == "no significant difference at 95%"
    assert all(d.delta == 0 and d.ci == (0.0, 0.0) for d in result.deltas)
    assert result.mcnemar_p == 1.0 and not result.wrong_to_right and not result.right_to_wrong
    assert result.n_shared == 12


def test_broken_run_is_worse(tmp_path: Path) -> None:
    samples = _samples(12)
    a = make_run(tmp_path, "a", [record(s) for s in samples])
    b = make_run(tmp_path, "b", [record(s, None) for s in samples], stamp="20250102-120000")
    result = compare_runs(a, b, n_bootstrap=300)
    assert result.verdict == "worse"
    assert result.deltas[0].name == "composite" and result.deltas[0].delta == pytest.approx(-1.0)
    assert len(result.right_to_wrong) == 12 and result.mcnemar_p == pytest.approx(2 * 0.5 ** 12)
    assert compare_runs(b, a, n_bootstrap=300).verdict == "better"
    text = result.to_markdown()
    assert "**Verdict: worse**" in text and "| composite | 1.000 | 0.000 | -1.000 |" in text
    assert "gv1-000" in text and {c["category"] for c in result.per_category} == {
        "dns", "pod_lifecycle", "network", "healthy"}


def test_tiny_difference_ci_includes_zero(tmp_path: Path) -> None:
    # 1 of 4 samples flips right -> wrong: the paired CI of the composite delta must reach 0.
    samples = _samples(4)
    a = make_run(tmp_path, "a", [record(s) for s in samples])
    b = make_run(tmp_path, "b", [record(samples[0], wrong(samples[0]))] + [record(s) for s in samples[1:]],
                 stamp="20250102-120000")
    result = compare_runs(a, b, n_bootstrap=500)
    lo, hi = result.deltas[0].ci
    assert lo < 0 and hi == 0.0
    assert result.right_to_wrong == ["gv1-000"] and result.mcnemar_p == 1.0
    assert result.verdict == "no significant difference at 95%"


def test_different_datasets_refused_unless_forced(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", [record(s) for s in SAMPLES])
    b = make_run(tmp_path, "b", [record(s) for s in SAMPLES], stamp="20250102-120000", sha256="other")
    with pytest.raises(RunError, match="not comparable; pass --force"):
        compare_runs(a, b)
    forced = compare_runs(a, b, force=True, n_bootstrap=100)
    assert forced.warnings and "sha256" in forced.warnings[0]


def test_no_shared_samples_refused(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", [record(s) for s in _samples(2)])
    b = make_run(tmp_path, "b", [record({**s, "sample_id": "x" + s["sample_id"]}) for s in _samples(2)],
                 stamp="20250102-120000")
    with pytest.raises(RunError, match="share no sample"):
        compare_runs(a, b)


def test_building_blocks() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(6, 0) == pytest.approx(2 / 64)
    assert paired_bootstrap_ci([1, 1, 1], [1, 1, 1]) == (0.0, 0.0)
    assert verdict((0.01, 0.2), wrong_to_right=0, right_to_wrong=0, p_value=1.0) == "better"
    assert verdict((-0.1, 0.2), wrong_to_right=9, right_to_wrong=0, p_value=0.004) == "better"
    assert verdict((-0.3, -0.1), wrong_to_right=9, right_to_wrong=0, p_value=0.004) == (
        "no significant difference at 95%")   # evidence both ways


def _with_floors(rec: dict, *, nearest_right: bool) -> dict:
    truth = dict(rec["actual"])
    miss = {**truth, "root_cause": "normal_operation", "action_needed": "ignore"}
    return {**rec, "floors": {"majority": miss, "nearest": truth if nearest_right else miss, "rules": miss}}


def test_the_verdict_says_when_the_winner_is_no_better_than_a_floor(tmp_path: Path) -> None:
    samples = _samples(20)
    a = make_run(tmp_path, "a", [_with_floors(record(s, wrong(s)), nearest_right=True) for s in samples])
    b = make_run(tmp_path, "b", [_with_floors(record(s), nearest_right=True) for s in samples],
                 stamp="20250102-120000")
    result = compare_runs(a, b, n_bootstrap=300)
    assert result.verdict == "better"
    expected = ("root cause: 20250102-120000-b is no better than the best no-LLM floor, the nearest floor "
                "(copying the nearest train sample's labels")
    assert any(note.startswith(expected) for note in result.floor_notes)
    assert "against the floor" in result.to_markdown()


def test_a_run_above_every_floor_is_said_to_beat_it(tmp_path: Path) -> None:
    samples = _samples(20)
    b = make_run(tmp_path, "b", [_with_floors(record(s), nearest_right=False) for s in samples])
    result = compare_runs(b, b, n_bootstrap=300)
    assert any("root cause: 20250101-120000-b is better than the best no-LLM floor" in n for n in result.floor_notes)
