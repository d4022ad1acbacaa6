"""What every CLI module shares: one-line errors, the console, the choices of enumerated options.

Every enumerated option is an Enum, so a bad value fails the same way everywhere (click's
"Invalid value for '--x': 'y' is not one of ...") and --help lists the choices.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

import typer
from rich.console import Console

from dspy_logeval.core.errors import LogevalError, RunStopped
from dspy_logeval.core.redact import redact_url
from dspy_logeval.runs.ranking import SORTABLE

GATE_FAILED = 3
"""Exit code of a failed gate (`logeval gate`, `compare --fail-on worse`); 1 stays for errors. deploy/k8s relies
on it: a failed gate fails the nightly Job at once, an error is retried."""

# Off a terminal (CI logs, pipes) lines are not wrapped at 80 columns: a path or run id must stay copyable.
# Set when a run stopped with requests possibly still in flight: everything is on disk by then, and the process
# should leave at once instead of letting library exit hooks wait for those requests (cli/app.py main()).
EXIT_AT_ONCE = threading.Event()
console = Console(soft_wrap=not sys.stdout.isatty(), width=None if sys.stdout.isatty() else 200)




class SplitChoice(str, Enum):
    all = "all"
    train = "train"
    dev = "dev"
    test = "test"


class ProgramChoice(str, Enum):
    """The programs of programs.PROGRAMS (a test pins the two together; importing programs loads DSPy)."""

    predict = "predict"
    cot = "cot"
    fewshot = "fewshot"
    knn = "knn"
    two_stage = "two_stage"


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


SortChoice = Enum("SortChoice", {name: name for name in SORTABLE}, type=str)  # type: ignore[misc]
"""Leaderboard columns to rank by: the metric_keys names a leaderboard row carries (runs.ranking.SORTABLE)."""
BY_COMPOSITE = SortChoice("composite")


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a LogevalError into one red line on stderr and exit code 1; other errors keep their traceback."""
    try:
        yield
    except LogevalError as exc:
        typer.secho(f"error: {redact_url(str(exc))}", fg=typer.colors.RED, err=True)
        if isinstance(exc, RunStopped):
            EXIT_AT_ONCE.set()
        raise typer.Exit(code=getattr(exc, "exit_code", 1)) from None
    except KeyboardInterrupt:
        typer.secho("interrupted", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=130) from None
