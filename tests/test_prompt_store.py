"""Prompt messages stored once per run (prompts.jsonl), referenced by prompt_hash; raw completions on records."""

from __future__ import annotations

import json
from pathlib import Path

import dspy
import httpx
from conftest import mini_config_dict
from dspy.utils.dummies import DummyLM
from test_analyzer import completion, make_analyzer

from dspy_logeval.core.config import ExperimentConfig, validate_config
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.eval.production import production_record
from dspy_logeval.eval.runner import EvalRequest, evaluate_experiment
from dspy_logeval.runs.folder import RunFolder
from dspy_logeval.runs.prompt_store import RAW_COMPLETION_MAX, PromptStore, bounded, prompt_hash
from dspy_logeval.runs.record import SampleRecord

SYSTEM = {"role": "system", "content": "Diagnose the logs."}


def test_store_writes_each_message_and_prompt_once(tmp_path: Path) -> None:
    store = PromptStore(tmp_path)
    first = [SYSTEM, {"role": "user", "content": "logs A"}]
    second = [SYSTEM, {"role": "user", "content": "logs B"}]
    keys = [store.add(first), store.add(second), store.add(first)]
    assert keys[0] == keys[2] == prompt_hash(first) and keys[1] != keys[0]
    lines = [json.loads(line) for line in (tmp_path / "prompts.jsonl").read_text().splitlines()]
    assert sum(line["kind"] == "message" for line in lines) == 3   # the shared system message once
    assert sum(line["kind"] == "prompt" for line in lines) == 2
    assert PromptStore(tmp_path).messages(keys[1]) == second        # a fresh reader rebuilds the messages
    assert PromptStore(tmp_path).messages("nope") is None


def test_bounded_keeps_short_text_and_says_what_it_cut() -> None:
    assert bounded("ok") == "ok" and bounded(None) is None
    cut = bounded("x" * (RAW_COMPLETION_MAX + 10))
    assert cut is not None and cut.endswith("[10 more characters not kept]")


def test_old_records_load_without_prompt_fields() -> None:
    record = SampleRecord.model_validate({"sample_id": "s1"})
    assert record.prompt_hash is None and record.raw_completion is None
    with_messages = record.model_copy(update={"prompt_messages": [SYSTEM]})
    assert "prompt_messages" not in with_messages.to_json()   # never written to results.jsonl


def test_evaluate_stores_prompts_once_and_pairs_them_right_under_concurrency(tmp_path: Path) -> None:
    config = validate_config(mini_config_dict(runtime={"concurrency": 3}), source="test")
    lm = DummyLM({"": {"root_cause": "normal_operation", "severity": "info", "component": "x", "summary": "s",
                       "action_needed": "ignore"}}, adapter=dspy.JSONAdapter())
    run = evaluate_experiment(config, runs_dir=tmp_path / "runs", lm=lm)
    lines = (run.path / "results.jsonl").read_text().splitlines()
    assert all("prompt_messages" not in json.loads(line) for line in lines)
    store = RunFolder(run.path).prompt_store
    for record in run.records():
        messages = store.messages(record.prompt_hash or "")
        assert messages is not None and record.logs in messages[-1]["content"]   # its own logs, not a neighbour's
        assert record.raw_completion and json.loads(record.raw_completion)["root_cause"] == "normal_operation"
    kinds = [json.loads(line)["kind"] for line in (run.path / "prompts.jsonl").read_text().splitlines()]
    assert kinds.count("prompt") == 5 and kinds.count("message") == 6   # one system message for all five


def test_a_parse_failure_keeps_the_raw_answer(mini_config: ExperimentConfig, tmp_path: Path) -> None:
    lm = DummyLM({"": {"root_cause": "not-a-label"}}, adapter=dspy.JSONAdapter())
    run = evaluate_experiment(mini_config, runs_dir=tmp_path, lm=lm, request=EvalRequest(limit=1))
    record = run.records()[0]
    assert record.error_kind == "parse" and "not-a-label" in (record.raw_completion or "")
    assert record.prompt_hash and run.prompt_store.messages(record.prompt_hash)


def test_production_record_carries_the_request_and_raw_answer() -> None:
    sample = load_dataset("golden-v1").samples[0]
    answer = json.dumps({"root_cause": "normal_operation", "severity": "info", "component": "c", "summary": "s",
                         "action_needed": "ignore"})
    record = production_record(make_analyzer(lambda request: completion(answer)), sample, weights={"root_cause": 1})
    assert record.raw_completion == answer and record.prompt_messages
    assert record.prompt_hash == prompt_hash(record.prompt_messages)
    assert record.prompt_messages[0]["content"] == "Diagnose the logs."

    def broken(request: httpx.Request) -> httpx.Response:
        return completion("not json at all")

    failed = production_record(make_analyzer(broken), sample, weights={"root_cause": 1})
    assert failed.error_kind == "parse" and failed.raw_completion == "not json at all" and failed.prompt_hash
