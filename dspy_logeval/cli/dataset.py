"""`logeval dataset ...`: validate, analyze, combine and freeze labeled datasets (thin engine wrappers)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dspy_logeval.cli.common import console, reported_errors
from dspy_logeval.cli.extract import register as register_extract_commands
from dspy_logeval.core.paths import DATASETS_DIR


class StratifyChoice(str, Enum):
    root_cause = "root_cause"
    category = "category"


dataset_app = typer.Typer(help="Validate, analyze, combine and freeze labeled datasets.",
                          no_args_is_help=True)

DatasetRef = Annotated[str, typer.Argument(help="A version (golden-v2), a folder, or a samples.json path.")]


@dataset_app.command("validate")
def validate_command(dataset: DatasetRef) -> None:
    """Check schema, taxonomy labels, duplicate ids and messages, and metadata; print every problem.

    Example: logeval dataset validate golden-v2
    """
    from dspy_logeval.data.checks import validate_dataset

    with reported_errors():
        report = validate_dataset(dataset)
    if not report.ok:
        for problem in report.problems:
            typer.echo(problem)
        typer.secho(f"error: {len(report.problems)} problems in {report.path}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    typer.echo(f"ok: {report.sample_count} samples")


@dataset_app.command("analyze")
def analyze_command(
    dataset: DatasetRef,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Show label distributions, log shape, labeling completeness and coverage recommendations.

    Example: logeval dataset analyze golden-v2 --json
    """
    from dspy_logeval.data.analysis import analyze_samples
    from dspy_logeval.data.dataset import load_dataset
    from dspy_logeval.data.label_rules import rules_agreement
    from dspy_logeval.runs.metrics import dataset_floors

    with reported_errors():
        loaded = load_dataset(dataset)
    analysis = analyze_samples(loaded.samples) | {"rules_agreement": rules_agreement(loaded.samples),
                                                  "floors_test": dataset_floors(loaded)}
    if as_json:
        typer.echo(json.dumps({"version": loaded.version, "sha256": loaded.sha256, **analysis}, indent=2))
        return
    console.print(f"[bold]{loaded.version}[/]: {analysis['sample_count']} samples, "
                  f"sha256 {loaded.sha256[:12]}…", highlight=False)
    _print_analysis(analysis)


@dataset_app.command("combine")
def combine_command(
    sources: Annotated[list[Path], typer.Argument(help="Source files, each a JSON list of samples.")],
    out: Annotated[Path, typer.Option("--out", help="The combined samples.json to write.")],
    seed: Annotated[int, typer.Option(help="Seed of the stratified train/dev/test split.")] = 7,
    real_ratio: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Target share of real samples; "
                                                     "default 0.7 when both kinds are present.")] = None,
    severity_mix: Annotated[str | None, typer.Option(help="Target severity shares, e.g. info=0.25,warn=0.25,"
                                                     "error=0.4,critical=0.1, or 'targets'.")] = None,
    stratify: Annotated[StratifyChoice, typer.Option(help="Split groups: root_cause (every test root cause has "
                                                          "2+ train examples) or category (golden-v1).")
                        ] = StratifyChoice.root_cause,
) -> None:
    """Merge SOURCES into one samples.json sorted by id, with seeded splits stratified by root cause.

    Example: logeval dataset combine datasets/sources/*.json --out /tmp/golden-v2.json --seed 7
    """
    from dspy_logeval.data.mix import combine_mixed, parse_severity_mix

    with reported_errors():
        report = combine_mixed(sources, out=out, seed=seed, real_ratio=real_ratio,
                               severity_mix=parse_severity_mix(severity_mix), stratify=stratify.value)
    samples = report.kept
    for line in report.notes:
        typer.echo(line)
    for line in report.unmet:
        typer.secho(line, fg=typer.colors.YELLOW)
    counts = {name: sum(1 for s in samples if s["split"] == name) for name in ("train", "dev", "test")}
    typer.echo(f"wrote {out}: {len(samples)} samples (train {counts['train']}, dev {counts['dev']}, "
               f"test {counts['test']}; seed {seed})")


@dataset_app.command("freeze")
def freeze_command(
    src: Annotated[Path, typer.Argument(help="A validated samples.json with splits (from `combine`).")],
    version: Annotated[str, typer.Option("--version", help="New version name, e.g. golden-v2.")],
    description: Annotated[str, typer.Option(help="One line on what this version is.")] = "",
    datasets_dir: Annotated[Path, typer.Option(hidden=True)] = DATASETS_DIR,
) -> None:
    """Write SRC as the immutable version datasets/VERSION/ (samples.json + metadata.json with its sha256).

    Example: logeval dataset freeze /tmp/golden-v3.json --version golden-v3 --description "v2 plus synthetic"
    """
    from dspy_logeval.data.freeze import freeze_version

    with reported_errors():
        target = freeze_version(src, version=version, description=description, datasets_dir=datasets_dir)
    metadata = json.loads((target / "metadata.json").read_text(encoding="utf-8"))
    typer.echo(f"froze {target}: {metadata['sample_count']} samples, sha256 {metadata['sha256']}")


register_extract_commands(dataset_app)  # extract, label, synthesize: after the commands above in --help


def _print_analysis(analysis: Mapping[str, Any]) -> None:
    from dspy_logeval.data.analysis import COVERAGE_MET, SEVERITY_TARGETS, namespace_targets

    total = analysis["sample_count"]
    severity_targets = {k: f"{v:.0%} ±5" for k, v in SEVERITY_TARGETS.items()}
    ns_targets = {k: f"{low}-{high}" for k, (low, high) in namespace_targets(total).items()}
    console.print(_distribution("severity", analysis["severity_distribution"], total, severity_targets))
    console.print(_distribution("namespace", analysis["namespace_distribution"], total, ns_targets))
    for key in ("category", "root_cause", "action"):
        console.print(_distribution(key, analysis[f"{key}_distribution"], total))
    console.print(_distribution("source", analysis["real_vs_synthetic"], total))
    console.print(_distribution("split", analysis["splits"], total))
    lines = analysis["lines_per_sample"]
    console.print(f"lines per sample: min {lines['min']}, mean {lines['mean']}, max {lines['max']}; "
                  f"multi-line {lines['multi_line_share']:.0%}; single-source (one pod/container) "
                  f"{lines['single_source_share']:.0%}")
    if analysis["split_by_root_cause"]:
        console.print(_split_table(analysis["split_by_root_cause"]))
    console.print(_completeness(analysis["labeling_completeness"]))
    recs = analysis["recommendations"]
    if not recs:
        console.print(f"[green]{COVERAGE_MET}[/]")
    for rec in recs:
        console.print(f"[yellow]recommendation:[/] {rec}", highlight=False)
    agreement = analysis["rules_agreement"]
    shares = ", ".join(f"{k} {v:.0%}" for k, v in agreement.items() if k != "n")
    console.print(f"pattern rules (label_rules.py) agree with the labels on {agreement['n']} samples: {shares}",
                  highlight=False)
    if analysis["floors_test"]:
        console.print(_floors_table(analysis["floors_test"]))


def _split_table(rows: Mapping[str, Mapping[str, int]]) -> Table:
    table = Table("root cause", "train", "dev", "test", "ok", title="split by root cause (test needs 2+ train)",
                  title_justify="left")
    for cause, row in rows.items():
        ok = "yes" if not row["test"] or row["train"] >= 2 else "NO"
        table.add_row(cause, str(row["train"]), str(row["dev"]), str(row["test"]), ok)
    return table


def _floors_table(floors: Mapping[str, Mapping[str, float]]) -> Table:
    columns = ("root_cause_exact_match", "severity_classification", "action", "component_detection", "composite")
    table = Table("no-LLM floor (test split)", "root cause", "severity", "action", "component F1", "composite",
                  title_justify="left")
    for name, values in floors.items():
        table.add_row(name, *(f"{values[c]:.1%}" if c != "composite" else f"{values[c]:.3f}" for c in columns))
    return table


def _distribution(name: str, counts: Mapping[str, int], total: int,
                  targets: Mapping[str, str] | None = None) -> Table:
    table = Table(title=f"{name} distribution", title_justify="left")
    table.add_column(name)
    table.add_column("samples", justify="right")
    table.add_column("share", justify="right")
    if targets is not None:
        table.add_column("target", justify="right")
    labels = list(counts) + [k for k in (targets or {}) if k not in counts]
    for label in labels:
        n = counts.get(label, 0)
        row = [label, str(n), f"{n / total:.1%}" if total else "-"]
        table.add_row(*row, *([targets.get(label, "")] if targets is not None else []))
    return table


def _completeness(table_data: Mapping[str, Mapping[str, int]]) -> Table:
    table = Table(title="labeling completeness", title_justify="left")
    for column in ("field", "filled", "of"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for field, row in table_data.items():
        table.add_row(field, str(row["filled"]), str(row["of"]))
    return table
