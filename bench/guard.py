"""The exec-time guard's cost per exec: a guarded `git --version` against the real git.

For each guard (the Python stubs; the compiled one, where a C compiler is here), in one
bubblewrap sandbox, interleaved: a timing loop inside the sandbox execs `git --version` (the
guard, a round trip to the policy in this process, then the real git) and the real git at its
private path (what an unguarded exec costs). Prints the medians and the difference, the
guard's cost per exec.

    .venv/bin/python bench/guard.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from plangate.agents import load_agent
from plangate.permissions import Action, Decision, Policy
from plangate.tools.guard import compiled_guard, exec_guard
from plangate.tools.sandbox import BASE_FLAGS, Sandbox

ROOT = Path(__file__).resolve().parents[1]

# Runs inside the sandbox: times each exec, guarded and real alternately, and prints JSON.
TIMER = r"""
import glob, json, statistics, subprocess, sys, time
runs = int(sys.argv[1])
real = glob.glob("/tmp/.plangate-real/usr/bin/git")[0]
times = {"guarded": [], "real": []}
for _ in range(runs):
    for kind, argv in (("guarded", ["git", "--version"]), ("real", [real, "--version"])):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True)
        times[kind].append(time.perf_counter() - start)
        assert done.returncode == 0 and done.stdout.startswith(b"git version"), done
print(json.dumps({k: statistics.median(v) * 1000 for k, v in times.items()}))
"""


async def measure(runs: int, *, compiled: bool) -> dict[str, float]:
    """Median milliseconds per exec of the guarded and of the real git, in one sandbox."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        sys.exit("bench/guard.py needs bubblewrap (bwrap): there is no guard without a sandbox")
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        policy = Policy(load_agent(ROOT / "agents" / "backend-developer.md").permission, workspace)
        prefix = (bwrap, *BASE_FLAGS, "--chdir", "/", "--")  # the commands' own sandbox
        allowed = Decision(action=Action.ALLOW, rule=None, reason="bench")
        async with exec_guard(policy, Sandbox(prefix, True), allowed, compiled=compiled) as guard:
            process = await asyncio.create_subprocess_exec(
                *guard.prefix,
                sys.executable,
                "-c",
                TIMER,
                str(runs),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            out, err = await process.communicate()
        if process.returncode != 0:
            sys.exit(f"the timing loop failed: {err.decode()}")
        result: dict[str, float] = json.loads(out)
        return result


def main() -> None:
    """Print the medians and each guard's cost per exec."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"git --version, {args.runs} execs each, medians, guarded and real alternately:")
    kinds = [("python", False)] + ([("compiled", True)] if compiled_guard() else [])
    for kind, compiled in kinds:
        medians = asyncio.run(measure(args.runs, compiled=compiled))
        guarded, real = medians["guarded"], medians["real"]
        print(
            f"  {kind:8} guard: {guarded:6.2f} ms guarded, {real:6.2f} ms real: "
            f"{guarded - real:6.2f} ms per exec ({guarded / real:.1f}x)"
        )
    if len(kinds) == 1:
        print("  (no C compiler: the compiled guard was not measured)")


if __name__ == "__main__":
    main()
