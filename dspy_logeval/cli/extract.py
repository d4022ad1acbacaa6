"""`logeval dataset extract | label | synthesize`: a golden set from a team's own Loki (thin engine wrappers)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from dspy_logeval.cli.common import console, reported_errors
from dspy_logeval.core.errors import ConfigError

__all__ = ["register"]

LOKI_TRANSPORT: httpx.BaseTransport | None = None  # tests put an httpx.MockTransport here
COUNT_COLUMNS = ("pulled", "grouped", "after_noise", "after_dedupe", "sampled", "target")

if TYPE_CHECKING:
    from dspy_logeval.data.extract.pipeline import NamespaceCounts


def register(app: typer.Typer) -> None:
    """Add extract, label and synthesize to the `dataset` sub-app."""
    app.command("extract")(extract_command)
    app.command("label")(label_command)
    app.command("synthesize")(synthesize_command)


def extract_command(
    loki: Annotated[str, typer.Option("--loki", help="Loki base URL, e.g. http://localhost:3100. Credentials "
                                      "come from LOKI_USERNAME/LOKI_PASSWORD, LOKI_TOKEN, LOKI_TENANT.")],
    since: Annotated[str | None, typer.Option(help="Lookback for every namespace, e.g. 14d; default: the "
                                              "plan's.")] = None,
    until: Annotated[str | None, typer.Option(help="End of the range, ISO 8601 (UTC); default: now.")] = None,
    plan: Annotated[Path | None, typer.Option(help="Extraction plan YAML; default: "
                                              "datasets/extract-plan.yaml.")] = None,
    out: Annotated[Path, typer.Option(help="Unlabeled samples file to write.")] = Path("unlabeled.json"),
) -> None:
    """Pull error-ish logs from Loki per the plan and write unlabeled real samples (then: dataset label).

    Example: logeval dataset extract --loki http://localhost:3100 --since 14d --out unlabeled.json
    """
    from dspy_logeval.data.extract.loki_client import LokiAuth, LokiClient
    from dspy_logeval.data.extract.pipeline import extract_to_file
    from dspy_logeval.data.extract.plan import DURATION, load_plan

    with reported_errors():
        extract_plan = load_plan(plan)
        end = _parse_until(until)
        if since is not None and not re.fullmatch(DURATION, since):
            raise ConfigError(f"--since {since!r} must be a number and s, m, h or d, e.g. 14d")
        with LokiClient(loki, auth=LokiAuth.from_env(), paging=extract_plan.paging,
                        transport=LOKI_TRANSPORT) as client, _progress() as on_progress:
            result = extract_to_file(extract_plan, client=client, out=out, since=since, now=end,
                                     on_progress=on_progress)
    console.print(_summary_table(result.counts))
    typer.echo(f"wrote {out}: {len(result.samples)} unlabeled samples; next: logeval dataset label {out}")


def label_command(
    file: Annotated[Path, typer.Argument(help="Unlabeled samples from `dataset extract`.")],
    out: Annotated[Path | None, typer.Option(help="Review file to write (without --accept), or labeled "
                                             "samples (with --accept).")] = None,
    accept: Annotated[Path | None, typer.Option(help="A reviewed review file: merge its accepted labels.")] = None,
) -> None:
    """Propose labels with the pattern rules for review; with --accept, merge reviewed labels into samples.

    Example: logeval dataset label unlabeled.json --accept unlabeled.review.json --out labeled.json
    """
    from dspy_logeval.data.labeling import accept_review, write_review
    from dspy_logeval.data.unlabeled import read_unlabeled

    with reported_errors():
        samples = read_unlabeled(file)
        if accept is None:
            outcome = write_review(samples, source=file, out=out or file.with_name(f"{file.stem}.review.json"))
        else:
            outcome = accept_review(samples, review=accept,
                                    out=out or file.with_name(f"{file.stem}.labeled.json"))
    if accept is None:
        typer.echo(f"wrote {outcome.path}: {outcome.pending} proposals (a rule fired on {outcome.rules_fired}); "
                   f"edit labels, set status to accepted or drop, then: logeval dataset label {file} "
                   f"--accept {outcome.path} --out labeled.json")
    else:
        typer.echo(f"wrote {outcome.path}: {outcome.accepted} labeled samples ({outcome.dropped} dropped, "
                   f"{outcome.pending} still proposed and left out)")


def synthesize_command(
    out: Annotated[Path, typer.Option(help="Labeled synthetic samples file to write.")],
    root_causes: Annotated[str, typer.Option(help="Comma-separated taxonomy root causes; default: every "
                                             "template.")] = "",
    n: Annotated[int, typer.Option("--n", help="How many samples.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of every random field.")] = 7,
) -> None:
    """Write N labeled samples of rare failures from templates (source: synthetic, template in provenance).

    Example: logeval dataset synthesize --out synthetic.json --root-causes disk_pressure,pvc_pending --n 20
    """
    from dspy_logeval.data.synthesize import synthesize_to_file

    wanted = [rc.strip() for rc in root_causes.split(",") if rc.strip()]
    with reported_errors():
        samples = synthesize_to_file(wanted, n=n, seed=seed, out=out)
    templates = sorted({s["provenance"]["template"] for s in samples})
    typer.echo(f"wrote {out}: {len(samples)} synthetic samples from {len(templates)} templates (seed {seed})")


def _parse_until(until: str | None) -> datetime | None:
    if until is None:
        return None
    try:
        end = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--until {until!r} is not an ISO 8601 time, e.g. 2026-12-05T00:00:00Z") from None
    return end if end.tzinfo else end.replace(tzinfo=timezone.utc)


@contextmanager
def _progress() -> Iterator[Callable[[str, int], None]]:
    """A rich progress display with one line per namespace: lines pulled so far."""
    tasks: dict[str, TaskID] = {}
    with Progress(TextColumn("{task.description:<22}"), TextColumn("{task.completed:>8,} lines"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:

        def on_progress(namespace: str, pulled: int) -> None:
            if namespace not in tasks:
                tasks[namespace] = progress.add_task(namespace, total=None)
            progress.update(tasks[namespace], completed=pulled)

        yield on_progress


def _summary_table(counts: Mapping[str, NamespaceCounts]) -> Table:
    table = Table(title="extract summary", title_justify="left")
    table.add_column("namespace")
    for column in COUNT_COLUMNS:
        table.add_column(column.replace("_", " "), justify="right")
    for namespace, row in counts.items():
        table.add_row(namespace, *(f"{getattr(row, c):,}" for c in COUNT_COLUMNS))
    table.add_row("total", *(f"{sum(getattr(r, c) for r in counts.values()):,}" for c in COUNT_COLUMNS),
                  style="bold")
    return table
