"""What every CLI module shares: one-line errors, the console."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from dspy_logeval.core.errors import LogevalError

console = Console()


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a LogevalError into one red line on stderr and exit code 1; other errors keep their traceback."""
    try:
        yield
    except LogevalError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        typer.secho("interrupted", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=130) from None
