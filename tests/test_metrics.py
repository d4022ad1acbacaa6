"""Metrics against hand-computed values."""

from __future__ import annotations

import dspy
import pytest
from runs_factory import SAMPLES, record, wrong

from dspy_logeval.core.config import DEFAULT_WEIGHTS
from dspy_logeval.core.errors import RunError
from dspy_logeval.runs.metrics import bootstrap_ci, compute_metrics
from dspy_logeval.runs.scoring import (
    component_score,
    composite_metric,
    normalize_component,
    score_sample,
    summary_rouge,
)

ACTUAL = SAMPLES[0]["actual"]


def test_default_weights_sum_to_one() -> None:
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(("raw", "expected"), [
    ("kube-system/coredns-5d78c9869d-x7k2p", ("kube-system", "coredns")),
    ("  CoreDNS ", (None, "coredns")),
    ("kube-proxy", (None, "kube-proxy")),          # no digit in the suffix: not a pod hash
    ("fluentd-x7k2p", (None, "fluentd")),           # DaemonSet pod
    ("", (None, "")),
])
def test_normalize_component(raw: str, expected: tuple[str | None, str]) -> None:
    assert normalize_component(raw) == expected


@pytest.mark.parametrize(("actual", "predicted", "score"), [
    ("kube-system/coredns", "kube-system/coredns-5d78c9869d-x7k2p", 1.0),
    ("coredns", "CoreDNS", 1.0),
    ("kube-system/coredns", "coredns", 0.5),        # namespace missing
    ("kube-system/coredns", "default/coredns", 0.5),  # namespace differs
    ("ingress-nginx/ingress-nginx-controller", "ingress-nginx", 0.25),
    ("shop/api", "shop/web", 0.0),
    ("shop/api", None, 0.0),
])
def test_component_partial_credit(actual: str, predicted: str | None, score: float) -> None:
    assert component_score(actual, predicted) == score


def test_rouge_l_by_hand() -> None:
    # LCS("disk full on node", "disk full on host") = 3 of 4 tokens each way -> P = R = F = 0.75
    assert summary_rouge("disk full on node", "disk full on host")["rougeL"] == pytest.approx(0.75)
    assert summary_rouge("disk full", "")["rougeL"] == 0.0


def test_score_sample_perfect_failed_and_partial() -> None:
    assert score_sample(ACTUAL, dict(ACTUAL))["composite"] == pytest.approx(1.0)
    assert set(score_sample(ACTUAL, None).values()) == {0.0}
    partial = {**ACTUAL, "severity": "warn", "component": "coredns"}
    # 0.35 root cause + 0 severity + 0.15 * 0.5 component + 0.15 action + 0.15 summary = 0.725
    assert score_sample(ACTUAL, partial)["composite"] == pytest.approx(0.725)


def test_score_sample_normalizes_custom_weights() -> None:
    scores = score_sample(ACTUAL, {**ACTUAL, "severity": "info"}, weights={"root_cause": 1, "severity": 1})
    assert scores["composite"] == pytest.approx(0.5)


def test_composite_metric_float_for_eval_bool_for_bootstrap() -> None:
    example = dspy.Example(logs="x", **ACTUAL).with_inputs("logs")
    pred = dspy.Prediction(**{k: v for k, v in ACTUAL.items() if k != "summary"})  # summary missing
    metric = composite_metric(threshold=0.9)
    assert metric(example, pred) == pytest.approx(0.85)
    assert metric(example, pred, trace=[]) is False
    assert composite_metric(threshold=0.8)(example, pred, []) is True


def test_bootstrap_pass_rule_names_the_scores_that_must_be_right() -> None:
    example = dspy.Example(logs="x", **ACTUAL).with_inputs("logs")
    right = dspy.Prediction(**{**ACTUAL, "summary": "", "component": "elsewhere/x", "action_needed": "ignore"})
    rule = composite_metric(must_be_right=("root_cause", "severity"))
    assert rule(example, right, trace=[]) is True                   # composite is low, but the two fields are right
    assert rule(example, dspy.Prediction(**{**ACTUAL, "severity": "info"}), trace=[]) is False
    assert composite_metric(threshold=0.9, must_be_right=("root_cause",))(example, right, []) is False


@pytest.fixture
def four_records() -> list[dict]:
    s1, s2, s3, s4 = SAMPLES
    return [record(s1, latency_ms=100), record(s2, wrong(s2), latency_ms=200),
            record(s3, None, latency_ms=300), record(s4, latency_ms=400)]


def test_compute_metrics_hand_computed(four_records: list[dict]) -> None:
    m = compute_metrics(four_records, price_per_1k_tokens=0.01, n_bootstrap=200)
    acc, q, perf = m["accuracy"], m["quality"], m["performance"]
    assert acc["root_cause_exact_match"] == pytest.approx(0.5)
    assert acc["severity_classification"] == pytest.approx(0.75)
    assert acc["severity_macro_f1"] == pytest.approx(0.75)     # error, critical, info F1=1; warn F1=0
    assert acc["component_detection"] == pytest.approx(0.75)
    assert acc["component_partial_credit"] == pytest.approx(0.75)
    assert acc["action"] == pytest.approx(0.75)
    assert m["composite"] == pytest.approx((1 + 0.65 + 0 + 1) / 4)
    assert q["summary_rougeL"] == pytest.approx(0.75) and q["summary_rouge2"] == pytest.approx(0.75)
    assert q["parse_failure_rate"] == pytest.approx(0.25)
    assert q["missed_log_rate"] == pytest.approx(0.25)         # only the failed sample
    assert q["hallucination_rate"] == 0.0
    assert perf["avg_latency_ms"] == 250 and perf["p50_latency_ms"] == 250
    assert perf["p95_latency_ms"] == pytest.approx(385.0)
    assert (perf["prompt_tokens"], perf["completion_tokens"], perf["total_tokens"]) == (400, 80, 480)
    assert perf["avg_total_tokens"] == 120 and perf["cost_usd"] == pytest.approx(0.0048)
    assert perf["cached_prompt_share"] == 0.0                   # no record was served from the prompt cache
    cached = [{**r, "cached_tokens": 80} for r in four_records[:2]]
    assert compute_metrics(cached + four_records[2:], n_bootstrap=10)["performance"]["cached_prompt_share"] == 0.4
    assert m["n_samples"] == 4 and m["n_errors"] == 1 and m["error_kinds"] == {"parse": 1}


def test_compute_metrics_breakdowns_and_confusion(four_records: list[dict]) -> None:
    m = compute_metrics(four_records, n_bootstrap=200)
    assert m["per_category"]["pod_lifecycle"] == {"n": 1, "root_cause_accuracy": 0.0, "composite": 0.65}
    assert m["per_namespace"]["shop"]["n"] == 2 and m["per_namespace"]["shop"]["root_cause_accuracy"] == 0.0
    assert set(m["per_source"]) == {"real", "synthetic"}
    assert set(m["per_severity"]) == {"info", "warn", "error", "critical"}
    confusion = m["severity_confusion"]
    assert confusion["labels"] == ["info", "warn", "error", "critical"]
    assert confusion["matrix"] == [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    assert confusion["failed"] == [0, 1, 0, 0]
    assert m["severity_report"]["warn"]["recall"] == 0.0
    for key, (lo, hi) in m["confidence_intervals"].items():
        assert 0.0 <= lo <= hi <= 1.0, key


def test_bootstrap_ci_tiny_case_includes_zero_and_is_seeded() -> None:
    # One right, one wrong: a quarter of the resamples are all-wrong, so the 95% interval must reach 0.
    assert bootstrap_ci([0.0, 1.0], seed=0) == [0.0, 1.0]
    assert bootstrap_ci([0.0, 1.0, 1.0, 0.0, 1.0], seed=3) == bootstrap_ci([0.0, 1.0, 1.0, 0.0, 1.0], seed=3)
    assert bootstrap_ci([1.0, 1.0, 1.0]) == [1.0, 1.0]


def test_all_failed_counts_as_wrong_everywhere() -> None:
    m = compute_metrics([record(s, None) for s in SAMPLES], n_bootstrap=50)
    assert m["accuracy"]["root_cause_exact_match"] == 0.0 and m["composite"] == 0.0
    assert m["accuracy"]["component_detection"] == 0.0 and m["n_errors"] == 4


def test_empty_records_raise_run_error() -> None:
    with pytest.raises(RunError, match="no complete sample"):
        compute_metrics([])
