"""kill -9 at many points of a session, then resume: nothing lost, nothing repeated."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

from plangate.agents import Agent
from plangate.model.anthropic import RetryPolicy
from plangate.model.factory import provider_for
from plangate.model.scripted import ScriptedServer
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.log import EventLog
from plangate.workflow.session import Session
from plangate.workflow.state import Status, replay

from .scenario import Model, make_workspace

ROOT = Path(__file__).resolve().parents[2]


def _drive(
    workspace: Path, base_url: str, session_id: str, kill_at: int
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.workflow.driver",
            str(workspace),
            base_url,
            session_id,
            str(kill_at),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_kill_at_twelve_points_then_resume(seed_agent: Agent, tmp_path: Path) -> None:
    # A reference run tells how many events an uninterrupted session writes.
    reference = make_workspace(tmp_path / "reference")
    with ScriptedServer(Model()) as server:
        provider = provider_for(
            "claude-sonnet-4-6",
            api_key="offline",
            base_url=server.base_url,
            retry=RetryPolicy(max_attempts=2),
        )
        session = Session.start(
            seed_agent, reference, "Fix add() in app.py", provider, ScriptedApprovals()
        )
        assert asyncio.run(session.run()).status is Status.COMPLETED
        total = len(session.log.read())

    workspace = make_workspace(tmp_path / "ws")
    points = sorted({max(4, total * k // 13) for k in range(1, 13)})
    assert len(points) >= 10
    kills = 0
    with ScriptedServer(Model()) as server:
        session_id = "new"
        for point in points:
            run = _drive(workspace, server.base_url, session_id, point)
            if session_id == "new":
                session_id = run.stdout.split()[0]
            if run.returncode == -9:
                kills += 1
            else:
                assert run.returncode == 0, run.stderr[-2000:]
        final = _drive(workspace, server.base_url, session_id, 0)
        assert final.returncode == 0, final.stderr[-2000:]
    assert kills >= 10
    log = EventLog(Session.log_path(workspace.resolve(), session_id))
    events = log.read()
    state = replay(events)
    assert state.status is Status.COMPLETED, state.reason
    assert (workspace / "app.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert (workspace / "docs" / "api.md").exists()
    # The bash command ran at most once: a command cut by a kill is reported, not rerun.
    changes = workspace / "CHANGES.txt"
    assert not changes.exists() or changes.read_text() == "fixed\n"
    applied = Counter(e.data["id"] for e in events if e.type == "applied")
    assert applied == Counter({"t-edit": 1, "t-docs": 1})  # no edit applied twice
    answers = Counter(e.data["id"] for e in events if e.type == "answer")
    assert all(count == 1 for count in answers.values())  # nothing answered twice
    assert set(state.questions) == set(state.answers)  # nothing left unanswered
    turns = [m for m in state.messages if m["role"] == "assistant"]
    assert len(turns) == 7  # the same conversation as without kills
