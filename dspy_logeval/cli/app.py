"""The `logeval` command: thin wrappers that parse options, call one engine function and print.

Command modules import the engine inside each command, so `logeval --help` and a bad argument answer at once.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from dspy_logeval.cli import evaluate, gate, optimize, prod, runs
from dspy_logeval.cli.common import EXIT_AT_ONCE
from dspy_logeval.cli.dataset import dataset_app
from dspy_logeval.cli.lm import lm_app
from dspy_logeval.core.redact import install_log_redaction

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(dataset_app, name="dataset")
app.add_typer(lm_app, name="lm")
evaluate.register(app)
runs.register(app)
optimize.register(app)
prod.register(app)
gate.register(app)


def version_text() -> str:
    """`dspy-logeval <version> (git <commit>)`: the installed package and, in a checkout, its commit."""
    from importlib.metadata import PackageNotFoundError, version

    from dspy_logeval.core.provenance import git_commit

    try:
        text = f"dspy-logeval {version('dspy-logeval')}"
    except PackageNotFoundError:
        text = "dspy-logeval (not installed)"
    commit = git_commit()
    return f"{text} (git {commit})" if commit else text


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", help="Print the package version and git commit, then exit.",
                                          callback=_print_version, is_eager=True)] = False,
) -> None:
    """Measure and improve LLM-powered Kubernetes log analysis with DSPy.

    Example: logeval evaluate configs/cot-smollm2.yaml --limit 10 && logeval leaderboard
    """


def main() -> None:
    install_log_redaction()  # no log line shows an endpoint's credentials, whichever library writes it
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except SystemExit as exc:
        if EXIT_AT_ONCE.is_set():  # a stopped run: its records are on disk; in-flight requests must not hold us
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        raise


if __name__ == "__main__":
    main()
