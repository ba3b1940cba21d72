"""Runs one command with the bash tool, as PlanGate does, and waits there to be killed.

python -m tests.tools.orphan_driver MODE WORKSPACE, the command in $ORPHAN_COMMAND (not in
argv, so that only the command's own processes name it). MODE: `sandboxed` (bubblewrap),
`plain` (no sandbox), `thread` (no sandbox, the event loop on a worker thread, as under
asyncio.to_thread: the thread that forks is not the main one).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path

from plangate.agents import load_agent
from plangate.permissions import Decision, Policy
from plangate.tools import ToolContext
from plangate.tools import sandbox as sandbox_module
from plangate.tools.bash import BashTool

ROOT = Path(__file__).resolve().parents[2]


async def _approve(_what: str, _decision: Decision) -> bool:
    return True


async def _run(workspace: Path) -> None:
    agent = load_agent(ROOT / "agents" / "backend-developer.md")
    ctx = ToolContext(
        workspace=workspace, policy=Policy(agent.permission, workspace), confirm=_approve
    )
    await BashTool().run({"command": os.environ["ORPHAN_COMMAND"], "timeout": 600}, ctx)


def main() -> None:
    mode, workspace = sys.argv[1], Path(sys.argv[2])
    if mode != "sandboxed":
        sandbox_module.bwrap_path = lambda: None
    if mode == "thread":
        worker = threading.Thread(target=asyncio.run, args=(_run(workspace),))
        worker.start()
        worker.join()
    else:
        asyncio.run(_run(workspace))


if __name__ == "__main__":
    main()
