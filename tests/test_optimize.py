from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import mini_config_dict
from fake_lm import OracleLM, ProposerLM

from dspy_logeval.core.config import validate_config
from dspy_logeval.core.errors import ArtifactError, ConfigError
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.eval.compiled import load_compiled, manifest_path
from dspy_logeval.eval.runner import build_program
from dspy_logeval.optimize.compile import OptimizeOptions, optimize_program


@pytest.fixture
def samples():  # type: ignore[no-untyped-def]
    return load_dataset(mini_config_dict()["dataset"]["version"]).samples


def _optimize(tmp_path: Path, samples, **opts):  # type: ignore[no-untyped-def]
    config = validate_config(mini_config_dict(program="predict"), source="t")
    options = OptimizeOptions(max_bootstrapped_demos=1, max_labeled_demos=1, **opts)
    wrong = {s.id for s in samples if s.split == "test"}  # the baseline gets test wrong ...
    return optimize_program(config, options=options, runs_dir=tmp_path / "runs", compiled_dir=tmp_path / "compiled",
                            lm=OracleLM(samples, wrong=wrong))


def test_optimize_saves_program_and_manifest_and_compares(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    phases: list[str] = []
    config = validate_config(mini_config_dict(program="predict"), source="t")
    result = optimize_program(config, options=OptimizeOptions(max_bootstrapped_demos=1, max_labeled_demos=1),
                              runs_dir=tmp_path / "runs", compiled_dir=tmp_path / "compiled",
                              lm=OracleLM(samples), progress=lambda phase, info: phases.append(phase))
    assert result.compiled_path.is_file() and manifest_path(result.compiled_path).is_file()
    manifest = json.loads(manifest_path(result.compiled_path).read_text())
    assert manifest["program"] == "predict" and manifest["optimizer"] == "bootstrap"
    assert set(manifest["train_ids"]) == {s.id for s in samples if s.split == "train"}
    assert manifest["demos"] >= 1 and manifest["test_run_id"] == result.compiled_run.run_id
    lineage = result.compiled_run.config().lineage
    assert lineage is not None and lineage.compiled == str(result.compiled_path)
    assert {r.split for r in result.compiled_run.records()} == {"test"}
    assert result.comparison.verdict and "bootstrap" in phases and "compile" in phases
    assert not result.baseline_reused


def test_same_seed_same_demos_and_reload(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    first = _optimize(tmp_path / "a", samples)
    second = _optimize(tmp_path / "b", samples)
    assert first.manifest["demo_ids"] == second.manifest["demo_ids"]
    program, manifest = load_compiled(first.compiled_path)
    by_id = {s.id: s for s in samples}
    assert None not in first.manifest["demo_ids"]
    from dspy_logeval.data.dataset import render_logs

    reloaded = [d["logs"] for d in program.analyze.demos]
    assert reloaded == [render_logs(by_id[i].logs) for i in first.manifest["demo_ids"]]


def test_identical_baseline_is_reused(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    first = _optimize(tmp_path, samples)
    second = _optimize(tmp_path, samples)
    assert second.baseline_reused and second.baseline.path == first.baseline.path


def test_labeled_optimizer(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    result = _optimize(tmp_path, samples, optimizer="labeled")
    assert result.manifest["demos"] == 1


def test_unknown_optimizer_and_too_many_demos(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="available: bootstrap"):
        OptimizeOptions(optimizer="genetic")
    config = validate_config(mini_config_dict(), source="t")
    with pytest.raises(ConfigError, match="fewer than the 9 demos"):
        optimize_program(config, options=OptimizeOptions(max_labeled_demos=9), runs_dir=tmp_path,
                         compiled_dir=tmp_path / "c", lm=OracleLM(samples))
    assert not (tmp_path / "c").exists()


def test_interrupted_compile_writes_nothing(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    config = validate_config(mini_config_dict(), source="t")

    def interrupt(phase: str, info: dict) -> None:  # type: ignore[type-arg]
        if phase == "bootstrap":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        optimize_program(config, options=OptimizeOptions(max_bootstrapped_demos=1, max_labeled_demos=1),
                         runs_dir=tmp_path / "runs", compiled_dir=tmp_path / "compiled", lm=OracleLM(samples),
                         progress=interrupt)
    assert not (tmp_path / "compiled").exists() or not list((tmp_path / "compiled").iterdir())


def test_missing_compiled_program(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="not found"):
        load_compiled(tmp_path / "nope.json")


def test_teacher_bootstraps_for_the_student_and_the_budget_stops_it(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    train = {s.id for s in samples if s.split == "train"}
    config = validate_config(mini_config_dict(program="predict"), source="t")
    student = OracleLM(samples, wrong=train)          # the student gets every train example wrong ...
    teacher = OracleLM(samples)                        # ... the teacher gets them right
    options = OptimizeOptions(max_bootstrapped_demos=2, max_labeled_demos=0, max_attempts=1)
    result = optimize_program(config, options=options, runs_dir=tmp_path / "runs", compiled_dir=tmp_path / "c",
                              lm=student, teacher_lm=teacher)
    boot = result.manifest["bootstrap"]
    assert boot["attempts"] == 1 and boot["passed"] == 1 and boot["stopped_early"].startswith("1 attempts")
    assert boot["pass_rule"] == ["root_cause", "severity"] and result.manifest["demos"] == 1
    assert teacher.calls >= 1 and result.manifest["wall_seconds"] >= 0
    saved = json.loads(manifest_path(result.compiled_path).read_text())
    assert saved["bootstrap"] == boot and saved["test_run_id"] == result.compiled_run.run_id


def test_a_student_without_teacher_that_never_passes_keeps_no_bootstrapped_demo(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    train = {s.id for s in samples if s.split == "train"}
    config = validate_config(mini_config_dict(program="predict"), source="t")
    result = optimize_program(config, options=OptimizeOptions(max_bootstrapped_demos=2, max_labeled_demos=0),
                              runs_dir=tmp_path / "runs", compiled_dir=tmp_path / "c",
                              lm=OracleLM(samples, wrong=train))
    assert result.manifest["bootstrap"]["passed"] == 0 and result.manifest["demos"] == 0
    assert result.manifest["bootstrap"]["stopped_early"] is None


def test_random_search_scores_candidates_on_dev(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    assert any(s.split == "dev" for s in samples)
    result = _optimize(tmp_path, samples, optimizer="random-search", num_candidates=1)
    params = result.manifest["optimizer_params"]
    assert result.manifest["optimizer"] == "random-search" and params["num_candidates"] == 1
    # every candidate ties on dev here, so the first (zero-shot) wins: the saved program reloads as it was chosen
    assert load_compiled(result.compiled_path)[1]["demos"] == result.manifest["demos"]
    assert result.manifest["test_run_id"] == result.compiled_run.run_id and result.comparison.verdict


def test_mipro_runs_on_its_budget_with_the_teacher_as_proposer(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    config = validate_config(mini_config_dict(program="predict"), source="t")
    train = {s.id for s in samples if s.split == "train"}
    student, teacher = OracleLM(samples, wrong=train), ProposerLM(samples)
    options = OptimizeOptions(optimizer="mipro", max_bootstrapped_demos=1, max_labeled_demos=1, num_candidates=3,
                              num_trials=2)
    result = optimize_program(config, options=options, runs_dir=tmp_path / "runs", compiled_dir=tmp_path / "c",
                              lm=student, teacher_lm=teacher)
    assert teacher.proposer_calls >= 2          # the teacher proposed the instructions ...
    assert result.manifest["bootstrap"]["passed"] >= 1   # ... and bootstrapped the demos the student got wrong
    assert result.manifest["optimizer_params"]["num_trials"] == 2
    instructions = load_compiled(result.compiled_path)[0].analyze.signature.instructions
    baseline = build_program(config, load_dataset(mini_config_dict()["dataset"]["version"])).analyze.signature
    assert instructions in (baseline.instructions, ProposerLM.INSTRUCTION)


def test_mipro_and_random_search_need_a_dev_split(tmp_path: Path, samples) -> None:  # type: ignore[no-untyped-def]
    no_dev = [s.model_copy(update={"split": "train"}) if s.split == "dev" else s for s in samples]
    path = tmp_path / "samples.json"
    path.write_text(json.dumps([s.model_dump(mode="json") for s in no_dev]))
    config = validate_config(mini_config_dict(program="predict", dataset={"version": str(path), "split": "all"}),
                             source="t")
    with pytest.raises(ConfigError, match="dev split"):
        optimize_program(config, options=OptimizeOptions(optimizer="mipro"), runs_dir=tmp_path / "r",
                         compiled_dir=tmp_path / "c", lm=OracleLM(no_dev))
    with pytest.raises(ConfigError, match="--num-trials"):
        OptimizeOptions(optimizer="mipro", num_trials=0)
