"""Runs one session in its own process and kills itself with SIGKILL at a chosen event.

python -m tests.workflow.driver WORKSPACE BASE_URL SESSION_ID|new KILL_AT
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from plangate.agents import load_agent
from plangate.model.anthropic import RetryPolicy
from plangate.model.factory import provider_for
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.events import Shown
from plangate.workflow.session import Session

ROOT = Path(__file__).resolve().parents[2]


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def main() -> None:
    workspace, base_url, session_id, kill_at = (
        Path(sys.argv[1]),
        sys.argv[2],
        sys.argv[3],
        int(sys.argv[4]),
    )
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
