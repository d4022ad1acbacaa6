"""`logeval lm`: the embedded llama.cpp models and server."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dspy_logeval.cli.common import console, reported_errors
from dspy_logeval.lm.models import DEFAULT_MODEL, MODELS

ModelChoice = Enum("ModelChoice", {name: name for name in MODELS}, type=str)  # type: ignore[misc]
"""The catalogued models (lm.models.MODELS), as the choices of every model-name option."""
DEFAULT_CHOICE = ModelChoice(DEFAULT_MODEL)

lm_app = typer.Typer(help="Embedded llama.cpp models and server.", no_args_is_help=True)


@lm_app.command("list")
def list_command() -> None:
    """Show the model catalogue: size, quantisation, licence, source, checksum, and whether each is cached.

    Example: logeval lm list
    """
    from dspy_logeval.lm.models import MODELS, is_cached

    table = Table("name", "params", "quant", "size", "licence", "source", "sha256", "cached")
    for model in MODELS.values():
        size = f"{model.size / 1e6:,.0f} MB" if model.size else "?"
        sha = (model.sha256[:16] + "…") if model.sha256 else "hub LFS sha256"
        table.add_row(model.name, model.params, model.quant, size, model.licence, model.source, sha,
                      "yes" if is_cached(model) else "no")
    console.print(table)


@lm_app.command("pull")
def pull_command(
    name: Annotated[ModelChoice, typer.Argument(help="Model name from `logeval lm list`.")
                    ] = DEFAULT_CHOICE,
    from_file: Annotated[Path | None, typer.Option("--from", help="Import a .gguf you already have (checked "
                                                                  "against the catalogue first).")] = None,
) -> None:
    """Get a catalogued model's .gguf into the cache, verified: from its published source, or --from a file.

    Example: logeval lm pull qwen2.5-coder-1.5b-instruct --from ~/Downloads/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
    """
    from dspy_logeval.lm.fetch import pull_model
    from dspy_logeval.lm.models import known_model

    with reported_errors():
        path = pull_model(known_model(name.value), from_file=from_file)
    typer.echo(f"{name.value}: {path}")


@lm_app.command("serve")
def lm_serve_command(
    model: Annotated[ModelChoice, typer.Option(help="Known model name (see `logeval lm list`).")
                     ] = DEFAULT_CHOICE,
    file: Annotated[str | None, typer.Option(help="A .gguf file to serve instead of a known model.")] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1, max=65535)] = 8080,
    parallel: Annotated[int, typer.Option(help="Server slots (concurrent requests).", min=1, max=16)] = 1,
    n_ctx: Annotated[int, typer.Option(help="Context window per slot.", min=512)] = 8192,
) -> None:
    """Run the embedded llama.cpp server in the foreground until Ctrl-C.

    Example: logeval lm serve --model smollm2-135m-instruct --port 8080 --parallel 2
    """
    from dspy_logeval.core.config import ModelConfig
    from dspy_logeval.lm.endpoint import model_file
    from dspy_logeval.lm.server import EmbeddedServer

    with reported_errors():
        path, _sha = model_file(ModelConfig(name=model.value, file=file))
        with EmbeddedServer(path, port=port, parallel=parallel, n_ctx=n_ctx) as server:
            typer.echo(f"serving {path.name} at {server.base_url} (OpenAI-compatible: {server.base_url}/v1); "
                       "Ctrl-C stops it")
            try:
                while server.alive():
                    time.sleep(0.5)
            except KeyboardInterrupt:
                typer.echo("stopping")
                return
    typer.secho("error: the llama.cpp server exited unexpectedly", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)
