"""kill -9 a session while its command or its validation check runs: the command and its
background jobs die with it, and resuming reports what was interrupted, to the user (an
`interrupted` event) and to the model (the command's result says so)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from plangate.agents import Agent
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow import prompts
from plangate.workflow.approvals import Answer, Question, ScriptedApprovals
from plangate.workflow.events import Interrupted, Shown
from plangate.workflow.session import Session
from plangate.workflow.state import PhaseStatus, Status
from tests.orphans import GONE, START, kill_all, named, running, sleeper, wait_for

from .scenario import Model, happy_path, make_workspace, provider, tool_results

ROOT = Path(__file__).resolve().parents[2]
QUICK_CHECK = "python3 -m unittest -q check_app"
OFFLINE = {**os.environ, "ANTHROPIC_API_KEY": "sk-ant-offline-test-key-0123456789"}


def validate_with(workspace: Path, command: str) -> None:
    """The workspace's one validation command."""
    (workspace / ".plangate" / "config.toml").write_text(f"validate = [{command!r}]\n")


def run_until_killed(workspace: Path, base_url: str, session_id: str, token: str) -> str:
    """Run the session in the kill -9 driver until the command `token` is running; kill
    it; check that the command's processes die with it. The session's id."""
    driver = subprocess.Popen(
        [sys.executable, "-m", "tests.workflow.driver", str(workspace), base_url, session_id, "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = wait_for(lambda: running(token) or driver.poll() is not None, START)
        started = started and driver.poll() is None
        assert started, driver.stderr.read()[-2000:] if driver.poll() is not None else "no start"
        assert len(named(f"{token}-job", first=True)) == 2  # the command's background jobs run
        driver.kill()
        out, _ = driver.communicate(timeout=GONE)
        assert driver.returncode == -signal.SIGKILL
        assert wait_for(lambda: not named(token), GONE), f"still running: {named(token)}"
        return session_id if session_id != "new" else out.split()[0]
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(timeout=GONE)
        kill_all(token)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_killed_mid_command_and_mid_validation_then_resumed(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = make_workspace(tmp_path / "ws")
    command_token, check_token = (f"orphan-{uuid.uuid4().hex[:10]}" for _ in range(2))
    command = sleeper(command_token)
    check = sleeper(check_token)
    steps = happy_path()
    steps[3] = ScriptedTurn(tool_calls=[ToolUse("bash", {"command": command}, id="t-log")])
    validate_with(workspace, check)
    model = Model(steps)
    with ScriptedServer(model) as server:
        # Killed while the agent's command runs, then while the phase's check runs.
        session_id = run_until_killed(workspace, server.base_url, "new", command_token)
        run_until_killed(workspace, server.base_url, session_id, check_token)
        # Resumed with a check that finishes.
        validate_with(workspace, QUICK_CHECK)
        shown: list[Shown] = []
        session = Session.open(
            seed_agent,
            workspace,
            session_id,
            provider(server.base_url),
            ScriptedApprovals(),
            on_event=shown.append,
        )
        state = asyncio.run(session.run())
        last_request = server.message_requests[-1].body
    assert state.status is Status.COMPLETED, state.reason
    logged = [e.event for e in session.log.read() if isinstance(e.event, Interrupted)]
    # Reported once each, as they happened: the command, then the check.
    assert [(e.kind, e.command, e.phase) for e in logged] == [
        ("bash", command, 1),
        ("check", check, 1),
    ]
    assert logged[1].message == prompts.check_interrupted(1, 1, check)
    # The check was run again and passed; the command was not run again.
    assert state.phases[1] is PhaseStatus.DONE
    assert [r["check"]["command"] for r in state.validations[1][-1]] == [QUICK_CHECK]
    assert state.validations[1][-1][0]["passed"] is True
    assert state.results["t-log"] == {"text": prompts.INTERRUPTED, "is_error": True}
    assert prompts.INTERRUPTED in tool_results(last_request)  # the model was told
    # The check's interruption was shown on this resume (the command's on the one before).
    assert [e for e in shown if isinstance(e, Interrupted)] == [logged[1]]


def plangate(workspace: Path, base_url: str, *args: str) -> list[str]:
    """A `plangate` command line on the scripted server that approves everything itself."""
    return [
        sys.executable,
        "-m",
        "plangate.cli",
        *args,
        "--workspace",
        str(workspace),
        "--base-url",
        base_url,
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_plangate_resume_reports_the_check_a_killed_run_left(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    token = f"orphan-{uuid.uuid4().hex[:10]}"
    check = sleeper(token)
    validate_with(workspace, check)
    with ScriptedServer(Model()) as server:
        approve = ("--approve", "plan,phases,edits,commands")
        run = subprocess.Popen(
            [*plangate(workspace, server.base_url, "run", *approve), "Fix add() in app.py"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=OFFLINE,
        )
        try:
            started = wait_for(lambda: running(token) or run.poll() is not None, START)
            started = started and run.poll() is None
            assert started, run.stdout.read()[-2000:] if run.poll() is not None else "no start"
            run.kill()
            out, _ = run.communicate(timeout=GONE)
            assert wait_for(lambda: not named(token), GONE), f"still running: {named(token)}"
        finally:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=GONE)
            kill_all(token)
        session_id = re.search(r"Session (\S+) in ", out).group(1)  # type: ignore[union-attr]
        validate_with(workspace, QUICK_CHECK)
        resumed = subprocess.run(
            plangate(workspace, server.base_url, "resume", session_id, *approve),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            env=OFFLINE,
        )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"interrupted: {prompts.check_interrupted(1, 1, check)}" in resumed.stdout
    assert f"Session {session_id}: completed" in resumed.stdout


class Stopped(Exception):
    """PlanGate stopping while a question waits for the user."""


def test_a_command_stopped_at_its_permission_question_is_asked_again_not_interrupted(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = make_workspace(tmp_path / "ws")

    def stop_at_permission(question: Question) -> Answer | None:
        if question.kind == "permission":
            raise Stopped
        return None

    with ScriptedServer(Model()) as server:
        session = Session.start(
            seed_agent,
            workspace,
            "Fix add() in app.py",
            provider(server.base_url),
            ScriptedApprovals(decide=stop_at_permission),
        )
        with pytest.raises(Stopped):
            asyncio.run(session.run())
        assert session.state.pending_question is not None
        assert session.state.pending_question.id == "permission:t-log:1#1"
        assert "t-log" in session.state.started  # started, but it never ran
        approvals = ScriptedApprovals()
        resumed = Session.open(
            seed_agent, workspace, session.state.id, provider(server.base_url), approvals
        )
        state = asyncio.run(resumed.run())
    assert state.status is Status.COMPLETED, state.reason
    assert [q.id for q in approvals.asked][:1] == ["permission:t-log:1#1"]  # asked again
    assert (workspace / "CHANGES.txt").read_text() == "fixed\n"  # and run, once
    assert "[exit code 0]" in state.results["t-log"]["text"]
    assert not [e for e in resumed.log.read() if isinstance(e.event, Interrupted)]
