"""The `logeval` command line: thin typer commands that import the engine only when they run."""
