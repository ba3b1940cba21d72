"""Runs one session in its own process and kills itself with SIGKILL at a chosen event, or
between a side effect and the event that records it.

python -m tests.workflow.driver WORKSPACE BASE_URL SESSION_ID|new KILL_AT [KILL_AFTER]

KILL_AT: the event count to die at (0: never). KILL_AFTER, for the moments no event marks:
`apply:PATH` dies once a change to PATH is on disk, before its `applied` event; `command:TEXT`
dies once the command TEXT (the model's or a validation check) has finished, before its result
is recorded. Both wrap the engine's functions in this process only: production code has no
hook for them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import plangate.workflow.calls
from plangate.agents import load_agent
from plangate.model.anthropic import RetryPolicy
from plangate.model.factory import provider_for
from plangate.permissions import Policy
from plangate.tools.base import ToolContext, ToolResult
from plangate.tools.bash import BashInput, BashTool
from plangate.tools.changes import ProposedChange
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.events import Shown
from plangate.workflow.session import Session

ROOT = Path(__file__).resolve().parents[2]


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_after(point: str) -> None:
    """Die right after the side effect `point` names (see the module's docstring)."""
    kind, _, target = point.partition(":")
    if kind == "apply":
        calls: Any = plangate.workflow.calls  # the name the engine calls it by
        apply_once = calls.apply_once

        def apply_then_die(
            change: ProposedChange, workspace: Path, policy: Policy | None = None
        ) -> Path:
            written: Path = apply_once(change, workspace, policy)
            if change.path == target:
                _die()
            return written

        calls.apply_once = apply_then_die
    elif kind == "command":
        execute = BashTool.execute

        async def execute_then_die(self: BashTool, params: BashInput, ctx: ToolContext) -> Any:
            result: ToolResult = await execute(self, params, ctx)
            if params.command == target:
                _die()
            return result

        BashTool.execute = execute_then_die  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def main() -> None:
    workspace, base_url, session_id, kill_at = (
        Path(sys.argv[1]),
        sys.argv[2],
        sys.argv[3],
        int(sys.argv[4]),
    )
    if len(sys.argv) > 5:
        kill_after(sys.argv[5])
    agent = load_agent(ROOT / "agents" / "backend-developer.md")
    provider = provider_for(
        "claude-sonnet-4-6",
        api_key="offline",
        base_url=base_url,
        retry=RetryPolicy(max_attempts=3, sleep=_no_wait),
    )
    holder: dict[str, Session] = {}

    def on_event(_event: Shown) -> None:
        session = holder.get("session")
        if kill_at and session is not None and session.log.seq >= kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    if session_id == "new":
        session = Session.start(
            agent,
            workspace,
            "Fix add() in app.py",
            provider,
            ScriptedApprovals(),
            on_event=on_event,
        )
    else:
        session = Session.open(
            agent, workspace, session_id, provider, ScriptedApprovals(), on_event=on_event
        )
    holder["session"] = session
    print(session.state.id, flush=True)
    state = asyncio.run(session.run())
    print(state.status.value, flush=True)


if __name__ == "__main__":
    main()
