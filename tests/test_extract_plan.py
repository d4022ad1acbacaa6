"""The extraction plan: the shipped default is valid, and every mistake names its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dspy_logeval.core.errors import ConfigError
from dspy_logeval.data.extract.plan import DEFAULT_PLAN_PATH, duration_seconds, load_plan

DEFAULT_NAMESPACES = {"kube-system", "logging", "llm", "log-analyzer", "envoy-gateway-system", "flux-system",
                      "monitoring"}


def test_default_plan_covers_the_clusters_namespaces() -> None:
    plan = load_plan()
    assert {ns.name for ns in plan.namespaces} == DEFAULT_NAMESPACES
    assert all(ns.query().startswith('{namespace="') and "|~" in ns.query() for ns in plan.namespaces)
    assert plan.grouping.window_seconds == 30 and plan.grouping.max_lines == 6
    assert plan.paging.page_size <= 5000 and duration_seconds(plan.lookback) == 14 * 86400


def _plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ("namespaces: [{name: llm, selector: '{namespace=\"llm\"}', targt: 3}]", r"namespaces\.0\.targt: Extra inputs"),
    ("namespaces: [{name: llm, selector: 'namespace=llm'}]", r"namespaces\.0\.selector: .*stream selector"),
    ("namespaces: [{name: llm, selector: '{a=\"b\"}', lookback: 2w}]", r"namespaces\.0\.lookback"),
    ("paging: {page_size: 0}\nnamespaces: [{name: llm, selector: '{a=\"b\"}'}]", r"paging\.page_size"),
    ("noise: ['(unclosed']\nnamespaces: [{name: llm, selector: '{a=\"b\"}'}]", r"noise: .*not a valid regex"),
    ("namespaces: [{name: llm, selector: '{a=\"b\"}'}, {name: llm, selector: '{a=\"c\"}'}]", "listed twice"),
    ("namespaces: []", r"namespaces: .*at least 1"),
    ("masking: {emails: maybe}\nnamespaces: [{name: llm, selector: '{a=\"b\"}'}]", r"masking\.emails"),
    ("[1, 2", "is not valid YAML"),
])
def test_bad_plans_name_the_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as err:
        load_plan(_plan(tmp_path, text))
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)


def test_missing_plan_points_at_the_default(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"not found: {tmp_path}/nope.yaml .*{DEFAULT_PLAN_PATH.name}"):
        load_plan(tmp_path / "nope.yaml")


def test_plan_is_frozen() -> None:
    plan = load_plan()
    with pytest.raises(ValueError):
        plan.namespaces[0].target = 1  # type: ignore[misc]
