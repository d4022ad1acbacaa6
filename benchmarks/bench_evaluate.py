"""Benchmark: the baseline through `evaluate` vs plain dspy.Evaluate, on one embedded server, fairly.

The server is warmed first, then the two sides alternate A B B A for --rounds rounds, so neither always runs on
the colder prompt cache. Prints, per pass: wall time, samples/s, the server's own prompt/generation throughput
(llama.cpp's /metrics), the prompt tokens the server really processed (uncached), harness overhead (wall minus
server time); then the median ours/plain wall ratio.

    python benchmarks/bench_evaluate.py [--config configs/baseline-smollm2-t01.yaml] [--limit N] [--rounds 2]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import dspy
import httpx

from dspy_logeval.core.config import load_config
from dspy_logeval.data.dataset import load_dataset
from dspy_logeval.eval.examples import to_examples
from dspy_logeval.eval.runner import EvalRequest, build_program, evaluate_experiment, select_samples
from dspy_logeval.lm.adapter import SchemaJSONAdapter
from dspy_logeval.lm.dspy_lm import build_lm
from dspy_logeval.lm.endpoint import open_endpoint
from dspy_logeval.runs.scoring import composite_metric

COUNTERS = ("prompt_tokens_total", "prompt_seconds_total", "tokens_predicted_total", "tokens_predicted_seconds_total")


def server_counters(base_url: str) -> dict[str, float]:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    values = {}
    for name in COUNTERS:
        match = re.search(rf"^llamacpp:{name}\s+([0-9.e+-]+)$", text, re.MULTILINE)
        values[name] = float(match.group(1)) if match else 0.0
    return values


def measure(label: str, base_url: str, work: callable, n: int) -> dict[str, float]:  # type: ignore[valid-type]
    before = server_counters(base_url)
    started = time.perf_counter()
    work()
    wall = time.perf_counter() - started
    after = server_counters(base_url)
    delta = {k: after[k] - before[k] for k in COUNTERS}
    server = delta["prompt_seconds_total"] + delta["tokens_predicted_seconds_total"]
    row = {"wall_s": wall, "samples_per_s": n / wall, "server_s": server, "overhead_s": wall - server,
           "overhead_pct": 100 * (wall - server) / wall,
           "prompt_tok_per_s": delta["prompt_tokens_total"] / max(delta["prompt_seconds_total"], 1e-9),
           "gen_tok_per_s": delta["tokens_predicted_total"] / max(delta["tokens_predicted_seconds_total"], 1e-9),
           "prompt_tokens_processed": delta["prompt_tokens_total"]}
    print(f"{label:>6}: wall {wall:7.1f} s  {row['samples_per_s']:.3f} samples/s  server {server:7.1f} s  "
          f"overhead {row['overhead_s']:5.1f} s ({row['overhead_pct']:.1f}%)  server throughput "
          f"{row['prompt_tok_per_s']:.0f} prompt tok/s, {row['gen_tok_per_s']:.0f} gen tok/s, "
          f"{delta['prompt_tokens_total']:.0f} prompt tokens processed")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/baseline-smollm2-t01.yaml")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2, help="A B B A rounds (each side runs twice a round).")
    args = parser.parse_args()
    config = load_config(args.config)
    dataset = load_dataset(config.dataset.version)
    samples = select_samples(dataset, config.dataset.split, args.limit)
    program = build_program(config, dataset)
    with open_endpoint(config.model) as endpoint, tempfile.TemporaryDirectory() as tmp:
        lm = build_lm(endpoint, config.llm_config, config.runtime)
        with dspy.context(lm=lm, adapter=SchemaJSONAdapter()):
            for example in to_examples(samples[:2]):  # warm the server and the shared prefix before any timing
                program(logs=example.logs)
        holder = {}

        def ours() -> None:
            holder["run"] = evaluate_experiment(config, runs_dir=Path(tmp), endpoint=endpoint, program=program,
                                                request=EvalRequest(limit=args.limit))

        def plain() -> None:
            with dspy.context(lm=lm, adapter=SchemaJSONAdapter()):
                dspy.Evaluate(devset=to_examples(samples), metric=composite_metric(config.metrics.weights),
                              num_threads=config.model.parallel, display_progress=False)(program)

        print(f"{len(samples)} samples, {config.experiment_id}, {config.model.parallel} slot(s), "
              f"{args.rounds} round(s) of A B B A")
        sides = {"ours": ours, "plain": plain}
        rows: dict[str, list[dict[str, float]]] = {"ours": [], "plain": []}
        for _ in range(args.rounds):
            for name in ("ours", "plain", "plain", "ours"):
                rows[name].append(measure(name, endpoint.base_url, sides[name], len(samples)))
        ratios = [a["wall_s"] / b["wall_s"] for a, b in zip(rows["ours"], rows["plain"], strict=True)]
        for name, runs in rows.items():
            print(f"{name:>6}: median wall {statistics.median(r['wall_s'] for r in runs):.1f} s, median uncached "
                  f"prompt tokens {statistics.median(r['prompt_tokens_processed'] for r in runs):,.0f}, median "
                  f"overhead {statistics.median(r['overhead_s'] for r in runs):.2f} s")
        metrics = holder["run"].metrics()["performance"]
        print(f"ours/plain wall ratio: median {statistics.median(ratios):.3f} (each pair: "
              f"{', '.join(f'{r:.3f}' for r in ratios)}); cached prompt tokens in the last `evaluate` run: "
              f"{metrics.get('cached_tokens', 0):,} of {metrics['prompt_tokens']:,}")


if __name__ == "__main__":
    main()
