"""knn and two_stage programs export: the DSPy-free analyzer picks the same demos and replays both requests."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import VALID_ANALYSIS

from dspy_logeval.core.config import validate_config
from dspy_logeval.data.dataset import load_dataset, render_logs
from dspy_logeval.data.taxonomy import load_taxonomy
from dspy_logeval.eval.runner import build_program
from dspy_logeval.export.artifact import ProgramSource, build_artifact
from dspy_logeval.lm.adapter import SchemaJSONAdapter
from dspy_logeval.serve.analyzer import AnalyzerSettings, LogAnalyzer
from dspy_logeval.serve.prompt_artifact import PromptArtifact


def _knn_source() -> ProgramSource:
    config = validate_config({"experiment_id": "knn", "program": "knn", "fewshot_k": 3,
                              "prompt": {"template": "fewshot_v1"}}, source="t")
    program = build_program(config, load_dataset("golden-v2"))
    return ProgramSource(program, config, {"source_run": None})


def test_knn_artifact_sends_exactly_what_the_program_sends() -> None:
    source = _knn_source()
    artifact = build_artifact(source, name="knn-test")
    assert artifact.retrieval is not None and artifact.retrieval.k == 3
    assert len(artifact.retrieval.pool) == len(source.program.pool.demos) and not artifact.demos
    analyzer = LogAnalyzer("http://llm", "m", AnalyzerSettings(), artifact)
    for sample in load_dataset("golden-v2").split("test")[:12]:
        logs = render_logs(sample.logs)
        demos = source.program.nearest(logs)
        expected = SchemaJSONAdapter().format(source.program.analyze.signature, demos, {"logs": logs})
        assert analyzer.build_prompt(logs) == expected, sample.id


def test_knn_artifact_round_trips_and_is_served_without_dspy(tmp_path: Path) -> None:
    artifact = build_artifact(_knn_source(), name="knn-test")
    reloaded = PromptArtifact.model_validate_json(artifact.model_dump_json())
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"choices": [{"message": {"content": json.dumps(VALID_ANALYSIS)}}]})

    analyzer = LogAnalyzer("http://llm", "m", AnalyzerSettings(retries=0), reloaded,
                           client=httpx.Client(transport=httpx.MockTransport(handler)))
    result = analyzer.analyze("2026-01-01T00:00:00Z shop/api-7d9f8c6b5d-q2w3e api: OOMKilled, exit code 137")
    assert result.analysis.root_cause == VALID_ANALYSIS["root_cause"]
    roles = [m["role"] for m in seen[0]["messages"]]
    assert roles == ["system", *["user", "assistant"] * 3, "user"]
    assert "OOMKilled" in seen[0]["messages"][-1]["content"]


def test_two_stage_artifact_replays_both_requests_of_the_program() -> None:
    from dspy_logeval.lm.adapter import response_format
    from programs.two_stage import TwoStage
    from signatures.two_stage import narrowed

    config = validate_config({"experiment_id": "two", "program": "two_stage"}, source="t")
    program = build_program(config, load_dataset("golden-v2"))
    assert isinstance(program, TwoStage)
    artifact = build_artifact(ProgramSource(program, config, {"source_run": None}), name="two-stage-test")
    assert artifact.stages is not None and set(artifact.stages.by_category) == set(load_taxonomy().categories)
    bodies: list[dict] = []
    answers = iter([{"category": "dns"}, VALID_ANALYSIS | {"root_cause": "nxdomain"}])

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"choices": [{"message": {"content": json.dumps(next(answers))}}],
                                         "usage": {"prompt_tokens": 10, "completion_tokens": 2}})

    analyzer = LogAnalyzer("http://llm", "m", AnalyzerSettings(retries=0), artifact,
                           client=httpx.Client(transport=httpx.MockTransport(handler)))
    logs = "2026-01-01T00:00:00Z kube-system/coredns-5d78c9869d-x7k2p coredns: NXDOMAIN for api.internal."
    result = analyzer.analyze(logs)
    assert result.analysis.root_cause == "nxdomain" and result.tokens["prompt_tokens"] == 20
    adapter = SchemaJSONAdapter()
    first = adapter.format(program.categorize.signature, program.categorize.demos, {"logs": logs})
    second_sig = narrowed(program.analyze.signature, "dns")
    second = adapter.format(second_sig, program.analyze.demos, {"logs": logs})
    assert bodies[0]["messages"] == first and bodies[1]["messages"] == second
    assert bodies[1]["response_format"] == response_format(second_sig)
    assert set(bodies[1]["response_format"]["json_schema"]["schema"]["properties"]["root_cause"]["enum"]) == {
        "dns_resolution_failed", "dns_timeout", "nxdomain"}


def test_a_category_without_a_stage_is_a_parse_error() -> None:
    from dspy_logeval.core.errors import AnalysisParseError

    config = validate_config({"experiment_id": "two", "program": "two_stage"}, source="t")
    artifact = build_artifact(ProgramSource(build_program(config, load_dataset("golden-v2")), config, {}),
                              name="two-stage-test")
    analyzer = LogAnalyzer("http://llm", "m", AnalyzerSettings(), artifact)
    with pytest.raises(AnalysisParseError, match="category 'weather', which has no stage"):
        analyzer.next_stage('{"category": "weather"}')
