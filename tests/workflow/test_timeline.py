"""A session's timeline: its log in words, from a real session over the scripted API."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from plangate.agents import Agent
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import SessionState
from plangate.workflow.timeline import timeline

from .scenario import Model, happy_path, make_workspace, provider


def _session_with_a_denial(agent: Agent, tmp_path: Path) -> tuple[Session, SessionState]:
    """The happy path, plus one denied command: the timeline says what was refused and why."""
    workspace = make_workspace(tmp_path / "ws")
    steps = happy_path()
    steps.insert(
        3, ScriptedTurn(tool_calls=[ToolUse("bash", {"command": "git push"}, id="t-push")])
    )
    with ScriptedServer(Model(steps)) as server:
        session = Session.start(
            agent, workspace, "Fix add() in app.py", provider(server.base_url), ScriptedApprovals()
        )
        return session, asyncio.run(session.run())


def test_the_happy_path_in_words(seed_agent: Agent, tmp_path: Path) -> None:
    session, state = _session_with_a_denial(seed_agent, tmp_path)
    entries = timeline(session.log.read())
    lines = [(e.kind, e.phase, e.text, e.ok) for e in entries]
    assert lines[0] == ("started", 0, "backend-developer: Fix add() in app.py", True)
    texts = [text for _, _, text, _ in lines]
    assert any(t.startswith("plan v1: ") for t in texts), texts
    assert ("answer", 0, "approve: Approve the plan 'Fix add()'?", True) in lines, texts
    assert ("answer", 1, "apply: Apply the change to app.py?", True) in lines, texts
    edit = next(e for e in entries if e.kind == "tool" and e.text.startswith("edit app.py"))
    assert edit.ok and edit.phase == 1 and "Applied the change to app.py" in edit.text
    denied = [e for e in entries if e.kind in ("denied", "tool") and "git push" in e.text]
    assert denied and not any(e.ok for e in denied), denied
    assert any(e.kind == "denied" and "`git push`" in e.text for e in entries), texts
    validation = next(e for e in entries if e.kind == "validation")
    assert validation.ok and validation.text.startswith(
        "validation 1: PASS python3 -m unittest -q check_app"
    ), validation
    assert ("phase", 1, "phase 1 done", True) in lines, texts
    # Nothing meant only for the model: no prompt text, no file contents.
    assert not any("def add" in t for t in texts), texts
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert lines[-1] == ("status", 2, "completed: every phase is done", True)
    assert state.status.value == "completed"


def test_plangate_timeline(seed_agent: Agent, tmp_path: Path) -> None:
    """The same at the terminal: one line an entry, failures marked with `!`."""
    session, state = _session_with_a_denial(seed_agent, tmp_path)
    workspace = session.workspace
    done = subprocess.run(
        [sys.executable, "-m", "plangate.cli", "timeline", state.id, "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("phase 0  started    backend-developer: Fix add() in app.py")
    assert any(" ! phase 1  denied     denied command git push: " in line for line in lines), lines
    missing = subprocess.run(
        [sys.executable, "-m", "plangate.cli", "timeline", "nope", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1 and "no session 'nope'" in missing.stderr
