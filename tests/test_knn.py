from __future__ import annotations

from pathlib import Path

import dspy
from conftest import MINI_GOLDEN, mini_config_dict
from fake_lm import OracleLM

from dspy_logeval.core.config import validate_config
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.eval.compiled import load_compiled, save_compiled
from dspy_logeval.eval.examples import to_examples
from dspy_logeval.eval.runner import build_program
from dspy_logeval.optimize.compile import OptimizeOptions, optimize_program
from programs.knn import KNN


def _pool() -> list[dspy.Example]:
    return to_examples(load_dataset(str(MINI_GOLDEN)).samples)


def test_nearest_puts_the_most_similar_example_last() -> None:
    pool = _pool()
    program = KNN().with_pool(pool, k=2)
    oom = next(e for e in pool if e.sample_id == "mini-001")
    chosen = program.nearest(oom.logs)
    assert len(chosen) == 2 and chosen[-1].sample_id == "mini-001"


def test_knn_program_takes_its_pool_from_train_only() -> None:
    config = validate_config(mini_config_dict(program="knn", fewshot_k=1), source="t")
    dataset = load_dataset(config.dataset.version)
    program = build_program(config, dataset)
    train_ids = {s.id for s in dataset.samples if s.split == "train"}
    assert {d.sample_id for d in program.pool.demos} == train_ids and program.k == 1


def test_saved_knn_reloads_with_pool_and_k(tmp_path: Path) -> None:
    program = KNN().with_pool(_pool(), k=2)
    path = save_compiled(program, tmp_path / "knn.json", {"program": "knn", "template": "root_cause_v1",
                                                           "config": {"fewshot_k": 2}})
    reloaded, _ = load_compiled(path)
    logs = _pool()[2].logs
    assert reloaded.k == 2
    assert [d["logs"] for d in reloaded.nearest(logs)] == [d.logs for d in program.nearest(logs)]


def test_optimize_with_knn(tmp_path: Path) -> None:
    config = validate_config(mini_config_dict(program="predict"), source="t")
    samples = load_dataset(config.dataset.version).samples
    result = optimize_program(config, options=OptimizeOptions(optimizer="knn", max_bootstrapped_demos=0,
                                                              max_labeled_demos=1),
                              runs_dir=tmp_path / "runs", compiled_dir=tmp_path / "c", lm=OracleLM(samples))
    assert result.manifest["program"] == "knn" and result.manifest["retrieval_pool"] == 2
    reloaded, _ = load_compiled(result.compiled_path)
    assert isinstance(reloaded, KNN) and len(reloaded.pool.demos) == 2
