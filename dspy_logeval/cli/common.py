"""What every CLI module shares: one-line errors, the console."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from dspy_logeval.core.errors import LogevalError
from dspy_logeval.core.redact import redact_url

# Off a terminal (CI logs, pipes) lines are not wrapped at 80 columns: a path or run id must stay copyable.
console = Console(soft_wrap=not sys.stdout.isatty(), width=None if sys.stdout.isatty() else 200)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a LogevalError into one red line on stderr and exit code 1; other errors keep their traceback."""
    try:
        yield
    except LogevalError as exc:
        typer.secho(f"error: {redact_url(str(exc))}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        typer.secho("interrupted", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=130) from None
