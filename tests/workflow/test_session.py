"""Scripted end-to-end sessions: the scripted Messages API server, the real SDK, the real
tools, scripted approvals."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plangate.agents import Agent
from plangate.model.factory import provider_for
from plangate.model.scripted import Fault, ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import Answer, ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import PhaseStatus, SessionState, Status

from .scenario import (
    APP,
    Model,
    happy_path,
    make_workspace,
    plan_input,
    provider,
    tool_results,
)


def run_session(
    agent: Agent,
    workspace: Path,
    server: ScriptedServer,
    approvals: ScriptedApprovals,
    task: str = "Fix add() in app.py",
) -> tuple[Session, SessionState]:
    session = Session.start(agent, workspace, task, provider(server.base_url), approvals)
    return session, asyncio.run(session.run())


def events(session: Session) -> list[dict[str, Any]]:
    return [e.model_dump() for e in session.log.read()]


def test_approve_all(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    approvals = ScriptedApprovals()
    with ScriptedServer(Model()) as server:
        session, state = run_session(seed_agent, workspace, server, approvals)
    assert state.status is Status.COMPLETED, state.reason
    assert (workspace / "app.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert (workspace / "docs" / "api.md").exists()
    assert (workspace / "CHANGES.txt").read_text() == "fixed\n"
    assert [q.kind for q in approvals.asked] == [
        "plan",
        "phase",
        "edit",
        "permission",
        "permission",
        "phase",
        "edit",
        "permission",
    ]
    assert state.phases == {1: PhaseStatus.DONE, 2: PhaseStatus.DONE}
    [plan_document] = (workspace / ".plangate" / "plans" / state.id).glob("*.md")
    plan_md = plan_document.read_text()
    # Statuses are the lenses' to show, not the document's: it changes only with the plan.
    assert "## Phase 1: API fix\n" in plan_md and "## Phase 2: Documentation\n" in plan_md
    passed = state.validations[1][-1][0]
    assert passed["passed"] and passed["check"]["command"] == "python3 -m unittest -q check_app"
    assert state.total_usage.output_tokens > 0 and state.usage.phases.keys() >= {"1", "2"}
    # The log is the session: replaying it gives the same state.
    reopened = Session.open(seed_agent, workspace, state.id, session.provider, approvals)
    assert reopened.state.model_dump() == state.model_dump()


def test_plangate_state_is_ignored_by_git(seed_agent: Agent, tmp_path: Path) -> None:
    """`.plangate/` never floods Source Control: a `.gitignore` with `*` from the first session
    on; one the user edited is left as it is."""
    workspace = make_workspace(tmp_path / "ws")
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    with ScriptedServer(Model()) as server:
        run_session(seed_agent, workspace, server, ScriptedApprovals())
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".plangate" not in status and "app.py" in status, status
    (workspace / ".plangate" / ".gitignore").write_text("*\n!config.toml\n")
    with ScriptedServer(Model()) as server:
        run_session(seed_agent, workspace, server, ScriptedApprovals())
    assert (workspace / ".plangate" / ".gitignore").read_text() == "*\n!config.toml\n"


def test_plan_revised_twice_then_approved(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    steps = happy_path()
    # After each revision request the model proposes again.
    steps[2:2] = [
        ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input("v2"), id="t-plan2")]),
        ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input("v3"), id="t-plan3")]),
    ]
    approvals = ScriptedApprovals(
        {"plan": [("revise", "Add input validation."), ("revise", "Also log errors."), "approve"]}
    )
    with ScriptedServer(Model(steps)) as server:
        _, state = run_session(seed_agent, workspace, server, approvals)
        bodies = [r.body for r in server.message_requests]
    assert state.status is Status.COMPLETED and state.plan_version == 3
    assert state.plan is not None and state.plan.title == "v3"
    feedback = [t for body in bodies for t in tool_results(body)]
    assert any("Add input validation." in t for t in feedback)  # verbatim to the model
    assert any("Also log errors." in t for t in feedback)


def test_reject_a_phase(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    approvals = ScriptedApprovals({"phase": [("reject", "Not now.")]})
    with ScriptedServer(Model()) as server:
        _, state = run_session(seed_agent, workspace, server, approvals)
    assert state.status is Status.CANCELLED and "phase 1 rejected: Not now." in state.reason
    assert (workspace / "app.py").read_text() == APP


def test_skip_a_phase(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    steps = happy_path()
    del steps[2:5]  # the model goes straight to documentation after the skip
    # The bug stays (phase 1 skipped), so validation fails until the user accepts.
    approvals = ScriptedApprovals({"phase": ["skip", "approve"], "validation": ["accept"]})
    with ScriptedServer(Model(steps)) as server:
        _, state = run_session(seed_agent, workspace, server, approvals)
    assert state.status is Status.COMPLETED
    assert state.phases == {1: PhaseStatus.SKIPPED, 2: PhaseStatus.DONE}
    assert (workspace / "app.py").read_text() == APP


def _edit(old: str, new: str, id: str, text: str = "") -> ScriptedTurn:
    return ScriptedTurn(
        text=text,
        tool_calls=[
            ToolUse("edit", {"file_path": "app.py", "old_string": old, "new_string": new}, id=id)
        ],
    )


def test_validation_fails_then_is_fixed(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    read, plan, _, log, complete, docs, complete_docs, closing = happy_path()
    # A wrong fix, completion (validation fails), the right fix, completion again.
    steps = [
        read,
        plan,
        _edit("a - b", "a * b", "t-wrong"),
        log,
        complete,
        _edit("a * b", "a + b", "t-fix", "Oops, fixing."),
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "fixed"}, id="t-done1b")]),
        docs,
        complete_docs,
        closing,
    ]
    with ScriptedServer(Model(steps)) as server:
        _, state = run_session(seed_agent, workspace, server, ScriptedApprovals())
        bodies = [r.body for r in server.message_requests]
    assert state.status is Status.COMPLETED, state.reason
    first, second = state.validations[1]
    assert not first[0]["passed"] and second[0]["passed"]
    assert any("Validation failed (attempt 1 of 3)" in t for b in bodies for t in tool_results(b))
    assert (workspace / "app.py").read_text().endswith("a + b\n")


def test_denied_command_and_denied_edit(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    (workspace / ".env").write_text("SECRET=1\n")
    steps = happy_path()
    steps[3:3] = [
        ScriptedTurn(
            tool_calls=[
                ToolUse("bash", {"command": "git add -A && git commit -m x"}, id="t-commit")
            ]
        ),
        ScriptedTurn(
            tool_calls=[ToolUse("write", {"file_path": ".env", "content": "X=2"}, id="t-env")]
        ),
    ]
    approvals = ScriptedApprovals()
    with ScriptedServer(Model(steps)) as server:
        _, state = run_session(seed_agent, workspace, server, approvals)
    assert state.status is Status.COMPLETED
    assert "git add" in state.results["t-commit"]["text"] and state.results["t-commit"]["is_error"]
    assert "not allowed" in state.results["t-env"]["text"]
    assert (workspace / ".env").read_text() == "SECRET=1\n"
    assert all(
        q.command != "git add -A && git commit -m x" for q in approvals.asked
    )  # deny is final


def test_pause_on_api_faults_and_resume(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    steps = happy_path()
    steps[2] = ScriptedTurn(
        text=steps[2].text,
        tool_calls=steps[2].tool_calls,
        faults=[Fault("overloaded"), Fault("drop", after_events=2)],
    )
    model = Model(steps)
    with ScriptedServer(model) as server:
        session, state = run_session(seed_agent, workspace, server, ScriptedApprovals())
        assert state.status is Status.PAUSED and "gave up after 2 attempts" in state.reason
        state = asyncio.run(session.resume())
    assert state.status is Status.COMPLETED
    assert (workspace / "app.py").read_text().endswith("a + b\n")
    assistant = [m for m in state.messages if m["role"] == "assistant"]
    # No turn lost, none duplicated (the closing text turn is never needed).
    assert len(assistant) == len(steps) - 1


def test_roll_back_a_phase(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    approvals = ScriptedApprovals({"phase": ["approve", "rollback", "skip", "skip"]})
    with ScriptedServer(Model()) as server:
        session, state = run_session(seed_agent, workspace, server, approvals)
    assert state.status is Status.COMPLETED
    assert (workspace / "app.py").read_text() == APP  # phase 1's edit is undone
    assert not (workspace / "CHANGES.txt").exists()
    assert state.phases[1] is PhaseStatus.ROLLED_BACK
    rollback = [e for e in events(session) if e["type"] == "rollback"]
    assert rollback and set(rollback[0]["data"]["paths"]) >= {"app.py", "CHANGES.txt"}


def test_repeated_tool_call_asks_the_user(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    steps = happy_path()
    steps[1:1] = [
        ScriptedTurn(tool_calls=[ToolUse("read", {"file_path": "app.py"}, id=f"t-r{i}")])
        for i in range(2)
    ]
    approvals = ScriptedApprovals({"loop": [("stop", "Enough reading.")]})
    with ScriptedServer(Model(steps)) as server:
        _, state = run_session(seed_agent, workspace, server, approvals)
    assert next(q.kind for q in approvals.asked) == "loop"
    assert "Enough reading." in state.results["t-r1"]["text"]
    assert state.status is Status.COMPLETED


def test_answers_must_be_valid_choices(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    approvals = ScriptedApprovals(decide=lambda q: Answer(choice="maybe"))
    with ScriptedServer(Model()) as server, pytest.raises(ValueError, match="not one of"):
        run_session(seed_agent, workspace, server, approvals)


def test_budget_and_step_limit_pause(seed_agent: Agent, tmp_path: Path) -> None:
    from plangate.model.catalog import model_table

    workspace = make_workspace(tmp_path / "ws")
    with ScriptedServer(Model()) as server:
        provider = provider_for("claude-sonnet-4-6", api_key="offline", base_url=server.base_url)
        session = Session.start(
            seed_agent,
            workspace,
            "Fix add()",
            provider,
            ScriptedApprovals(),
            model=model_table().get("claude-sonnet-4-6"),
            budget_usd=0.000001,
        )
        state = asyncio.run(session.run())
        assert state.status is Status.PAUSED and "budget" in state.reason
        limited = seed_agent.model_copy(update={"steps": 2})
        session = Session.start(
            limited,
            make_workspace(tmp_path / "ws2"),
            "Fix add()",
            provider,
            ScriptedApprovals({"limit": ["stop"]}),
        )
        state = asyncio.run(session.run())
    assert state.status is Status.PAUSED and "step limit of 2" in state.reason and state.turns == 2
