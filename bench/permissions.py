"""Permission engine throughput and latency over the adversarial corpus.

Prints decisions per second and p50/p99 latency of one bash decision, next to two references
measured in the same run on the same commands: tree-sitter-bash parsing alone (the floor every
decision pays) and Python's shlex.split (a naive tokenizer). The claim checked: p99 < 1 ms.

    .venv/bin/python bench/permissions.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tree_sitter_bash
from tree_sitter import Language, Parser

from plangate.agents import load_agent
from plangate.permissions import Policy

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99_MS = 1.0


def _latencies(commands: list[str], run: Callable[[str], object], rounds: int) -> list[float]:
    samples: list[float] = []
    for _ in range(rounds):
        for command in commands:
            start = time.perf_counter_ns()
            run(command)
            samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _shlex(command: str) -> object:
    try:
        return shlex.split(command)
    except ValueError:
        return None


def main() -> int:
    """Run the benchmark and print the figures; exit 1 if p99 misses the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    lines = (ROOT / "tests" / "corpus" / "bash.jsonl").read_text("utf-8").splitlines()
    commands = [json.loads(line)["bash"] for line in lines if line.strip()]
    agent = load_agent(ROOT / "agents" / "backend-developer.md")
    with tempfile.TemporaryDirectory() as workspace:
        policy = Policy(agent.permission, Path(workspace))
        ts = Parser(Language(tree_sitter_bash.language()))
        for command in commands:  # warm caches (compiled patterns, imports)
            policy.check_bash(command)
        engine = _latencies(commands, policy.check_bash, args.rounds)
        parse = _latencies(commands, lambda c: ts.parse(c.encode()), args.rounds)
        naive = _latencies(commands, _shlex, args.rounds)
    p50, p99 = _percentile(engine, 0.5), _percentile(engine, 0.99)
    print(f"corpus: {len(commands)} commands x {args.rounds} rounds = {len(engine)} decisions")
    print(f"engine: {1000 / statistics.fmean(engine):,.0f} decisions/s")
    print(
        f"engine latency: p50 {p50 * 1000:.0f} us, p99 {p99 * 1000:.0f} us, "
        f"max {max(engine) * 1000:.0f} us"
    )
    for name, ref in (("tree-sitter parse only", parse), ("shlex.split", naive)):
        ref50 = _percentile(ref, 0.5)
        print(
            f"reference {name}: p50 {ref50 * 1000:.1f} us -> engine/reference p50 ratio "
            f"{p50 / ref50:.1f}x"
        )
    ok = p99 < TARGET_P99_MS
    print(f"target p99 < {TARGET_P99_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
