"""How fast the CLI answers: the median of N `logeval --help` runs, a command's --help, a bad argument, and the
import time of the CLI module, each in a fresh interpreter.

    python benchmarks/bench_cli.py [--runs 10] [--module dspy_logeval.cli.app]

The goal (issue 9) is a median under 0.5 s on a 2-core machine: the engine (dspy, litellm, scikit-learn,
pandas) is imported inside the commands that need it, never to print help.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=False)
    return time.perf_counter() - started


def median_seconds(cmd: list[str], runs: int) -> float:
    """Median wall time of RUNS executions of CMD (one warm-up run first, not counted)."""
    _timed(cmd)
    return statistics.median(_timed(cmd) for _ in range(runs))


def import_seconds(module: str, runs: int) -> float:
    """Median time to import MODULE in a fresh interpreter, minus the interpreter's own start-up."""
    bare = median_seconds([sys.executable, "-c", "pass"], runs)
    return median_seconds([sys.executable, "-c", f"import {module}"], runs) - bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--module", default="dspy_logeval.cli.app", help="The module that defines the CLI app.")
    args = parser.parse_args()
    cli = [sys.executable, "-m", args.module]
    rows = {
        "logeval --help": median_seconds([*cli, "--help"], args.runs),
        "logeval evaluate --help": median_seconds([*cli, "evaluate", "--help"], args.runs),
        "logeval compare (unknown run id)": median_seconds([*cli, "compare", "no-such-run", "x"], args.runs),
        "logeval evaluate (missing config)": median_seconds([*cli, "evaluate", "no-such.yaml"], args.runs),
        f"import {args.module}": import_seconds(args.module, args.runs),
    }
    print(f"median of {args.runs} runs each ({sys.executable}):")
    for name, seconds in rows.items():
        print(f"  {name:<40} {seconds:6.3f} s")


if __name__ == "__main__":
    main()
