"""What the bash tool adds to a command: the whole tool (static check, sandbox, copy-on-write
layer, exec-time guard, merge) against plain `bash -c`, on workspaces of 1,000 and 100,000
files.

For each size, a workspace of that many files (100 a folder, a `.git` and a `.env` among them)
and, interleaved, each command run through the tool with the seed agent's rules and through
`bash -c` in the same folder. Prints the medians and the overhead. `ls` changes nothing; the
write makes the merge apply one file.

    .venv/bin/python bench/commands.py [--runs N] [--sizes 1000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from plangate.agents import load_agent
from plangate.permissions import Decision, Policy
from plangate.tools import ToolContext
from plangate.tools.bash import BashTool
from plangate.tools.sandbox import support

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("ls", "echo x > out.txt")
PER_FOLDER = 100


def make_workspace(folder: Path, files: int) -> None:
    """`files` empty files, PER_FOLDER a folder, beside a `.git` and a `.env`."""
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / ".env").write_text("SECRET=1\n")
    for index in range(files):
        sub = folder / "src" / f"d{index // PER_FOLDER}"
        if index % PER_FOLDER == 0:
            sub.mkdir(parents=True)
        os.close(os.open(sub / f"f{index}.py", os.O_CREAT | os.O_WRONLY, 0o644))


async def plain(command: str, cwd: Path) -> float:
    """Seconds for `bash -c command`."""
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        command,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.wait()
    return time.perf_counter() - start


async def approve(_what: str, _decision: Decision) -> bool:
    """The user's answer to the write's question: yes, at once (not part of the cost)."""
    return True


async def through_tool(command: str, ctx: ToolContext) -> float:
    """Seconds for the bash tool to run `command`, all its layers included."""
    start = time.perf_counter()
    result = await BashTool().run({"command": command}, ctx)
    elapsed = time.perf_counter() - start
    if result.is_error or not result.data.get("sandboxed"):
        sys.exit(f"`{command}` through the tool: {result.text}")
    return elapsed


async def measure(files: int, runs: int) -> dict[str, tuple[float, float]]:
    """Per command, the median milliseconds through the tool and through `bash -c`."""
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        make_workspace(workspace, files)
        agent = load_agent(ROOT / "agents" / "backend-developer.md")
        ctx = ToolContext(
            workspace=workspace, policy=Policy(agent.permission, workspace), confirm=approve
        )
        results: dict[str, tuple[float, float]] = {}
        for command in COMMANDS:
            await through_tool(command, ctx)  # warm: the sandbox probe, the compiled guard
            tool, bare = [], []
            for _ in range(runs):
                tool.append(await through_tool(command, ctx))
                bare.append(await plain(command, workspace))
            results[command] = (statistics.median(tool) * 1000, statistics.median(bare) * 1000)
        return results


def main() -> None:
    """Print the medians and the tool's overhead for each size and command."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sizes", default="1000,100000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as probe:
        machine = support(Path(probe))
    if not machine.usable:
        sys.exit(f"bench/commands.py needs the sandbox: {machine.problem}")
    print(f"bash tool against plain `bash -c`, {args.runs} runs each, medians:")
    for files in (int(size) for size in args.sizes.split(",")):
        for command, (tool, bare) in asyncio.run(measure(files, args.runs)).items():
            print(
                f"  {files:>7,} files  {command:<18} tool {tool:7.2f} ms   bash -c {bare:6.2f} ms"
                f"   overhead {tool - bare:6.2f} ms ({tool / bare:.1f}x)"
            )


if __name__ == "__main__":
    main()
