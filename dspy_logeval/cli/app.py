"""The `logeval` command: thin wrappers that parse options, call one engine function and print.

Command modules import the engine inside each command, so `logeval --help` and a bad argument answer at once.
"""

from __future__ import annotations

import logging

import typer

from dspy_logeval.cli import evaluate, optimize, prod, runs
from dspy_logeval.cli.dataset import dataset_app
from dspy_logeval.cli.lm import lm_app
from dspy_logeval.core.redact import install_log_redaction

app = typer.Typer(help="Measure and improve LLM-powered Kubernetes log analysis with DSPy.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(dataset_app, name="dataset")
app.add_typer(lm_app, name="lm")
evaluate.register(app)
runs.register(app)
optimize.register(app)
prod.register(app)


def main() -> None:
    install_log_redaction()  # no log line shows an endpoint's credentials, whichever library writes it
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
