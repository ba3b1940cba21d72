"""grep and glob tools against raw ripgrep on a 50,000-file tree.

Builds the tree in a temporary folder (deterministic content), then times each query through
the tool (in-process, as the agent calls it) and through raw `rg` with the same flags (a
subprocess, output captured), alternating, and prints medians and the tool/rg ratio. The claim
checked: both tools within 1.2x of raw rg.

    .venv/bin/python bench/search.py [--files N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from plangate.agents import load_agent
from plangate.permissions import Policy
from plangate.tools import ToolContext
from plangate.tools.search import GlobTool, GrepTool, rg_binary

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.2
WORDS = ["alpha", "beta", "gamma", "delta", "handler", "request", "cache", "query", "user"]


def build_tree(root: Path, files: int) -> None:
    """`files` small source files in nested folders, a few containing rarer words."""
    rng = random.Random(7)
    for i in range(files):
        folder = root / f"pkg{i % 50:02d}" / f"mod{i % 37:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = (".py", ".ts", ".go", ".md")[i % 4]
        body = "\n".join(" ".join(rng.choices(WORDS, k=8)) for _ in range(20))
        if i % 500 == 0:
            body += "\nTODO_RARE_MARKER fix this\n"
        (folder / f"file{i:05d}{suffix}").write_text(body + "\n")
    (root / ".env").write_text("TODO_RARE_MARKER=secret\n")


def _time_tool(tool: Any, args: dict[str, Any], ctx: ToolContext) -> float:
    start = time.perf_counter()
    result = asyncio.run(tool.run(args, ctx))
    elapsed = time.perf_counter() - start
    assert not result.is_error, result.text
    return elapsed


def _time_rg(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([rg_binary(), *args], cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> int:
    """Build, measure, print; exit 1 when a ratio misses the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    agent = load_agent(ROOT / "agents" / "backend-developer.md")
    queries: list[tuple[str, Any, dict[str, Any], list[str]]] = [
        (
            "grep rare word",
            GrepTool(),
            {"pattern": "TODO_RARE_MARKER"},
            [
                "--line-number",
                "--with-filename",
                "--no-heading",
                "--color",
                "never",
                "--regexp",
                "TODO_RARE_MARKER",
                "--",
                ".",
            ],
        ),
        (
            "grep common word, *.py",
            GrepTool(),
            {"pattern": "handler", "include": "*.py"},
            [
                "--line-number",
                "--with-filename",
                "--no-heading",
                "--color",
                "never",
                "--glob",
                "*.py",
                "--regexp",
                "handler",
                "--",
                ".",
            ],
        ),
        (
            "glob **/*.go, newest first",
            GlobTool(),
            {"pattern": "**/*.go"},
            ["--files", "--color", "never", "--sortr", "modified", "--glob", "**/*.go"],
        ),
    ]
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        started = time.perf_counter()
        build_tree(workspace, args.files)
        print(f"tree: {args.files:,} files built in {time.perf_counter() - started:.1f} s")
        ctx = ToolContext(workspace=workspace, policy=Policy(agent.permission, workspace))
        ok = True
        for name, tool, tool_args, rg_args in queries:
            _time_tool(tool, tool_args, ctx)  # warm the page cache for both
            _time_rg(rg_args, workspace)
            tool_times, rg_times = [], []
            for _ in range(args.runs):
                tool_times.append(_time_tool(tool, tool_args, ctx))
                rg_times.append(_time_rg(rg_args, workspace))
            tool_median = statistics.median(tool_times)
            rg_median = statistics.median(rg_times)
            ratio = tool_median / rg_median
            ok = ok and ratio <= TARGET
            print(
                f"{name:28} tool {tool_median * 1000:7.1f} ms   raw rg {rg_median * 1000:7.1f} ms"
                f"   ratio {ratio:.2f}x"
            )
    print(
        f"target: every ratio <= {TARGET}x: {'met' if ok else 'MISSED'} "
        f"(medians of {args.runs} runs)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
