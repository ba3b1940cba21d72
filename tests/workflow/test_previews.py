"""A change is shown only against the text it was computed on: after a restart the file may
already hold it, and another session or the user may have changed the file meanwhile."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plangate.agents import Agent
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.tools.changes import Drift, drift
from plangate.workflow.approvals import Answer, Question, ScriptedApprovals
from plangate.workflow.events import ChangeApplied, ToolFinished, Withdrawn
from plangate.workflow.session import Session
from plangate.workflow.state import Status

from .scenario import APP, Model, happy_path, make_workspace, provider

# An insertion: applied twice, it would leave two copies of sub().
ADDED = "\n\ndef sub(a, b):\n    return a - b\n"
INSERT = {"file_path": "app.py", "old_string": "a - b\n", "new_string": "a + b\n" + ADDED}


class Inserting(Model):
    """The happy path with an insertion for its edit; a task naming mul() inserts mul()."""

    def __call__(self, body: dict[str, Any]) -> ScriptedTurn:
        edit = INSERT
        if "mul()" in json.dumps(body["messages"][0]):
            edit = {**INSERT, "new_string": "a + b\n\n\ndef mul(a, b):\n    return a * b\n"}
        self.steps = happy_path()
        self.steps[2] = ScriptedTurn(
            text="Fixing.", tool_calls=[ToolUse("edit", edit, id="t-edit")]
        )
        return super().__call__(body)


class Crash(Exception):
    """PlanGate stopping (kill -9) at the worst moment for the test."""


def test_a_change_the_editor_saved_before_a_crash_is_not_shown_again(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = make_workspace(tmp_path / "ws")

    def applied_then_crash(q: Question) -> Answer | None:
        if q.kind == "edit" and q.change is not None and q.change.new_text is not None:
            # The user applied the preview and the editor saved it; no answer came back.
            (workspace / q.change.path).write_text(q.change.new_text)
            raise Crash
        return None

    with ScriptedServer(Inserting()) as server:
        session = Session.start(
            seed_agent,
            workspace,
            "Fix add()",
            provider(server.base_url),
            ScriptedApprovals(decide=applied_then_crash),
        )
        with pytest.raises(Crash):
            asyncio.run(session.run())
        again = ScriptedApprovals()
        resumed = Session.open(
            seed_agent, workspace, session.state.id, provider(server.base_url), again
        )
        state = asyncio.run(resumed.run())
    assert state.status is Status.COMPLETED
    assert [q.id for q in again.asked if q.kind == "edit"] == ["edit:t-docs#1"]
    assert (workspace / "app.py").read_text() == APP.replace("a - b\n", "a + b\n" + ADDED)
    events = [e.event for e in resumed.log.read()]
    assert Withdrawn(id="edit:t-edit#1", reason="the file already holds the change") in events
    assert ChangeApplied(id="t-edit", path="app.py") in events
    [result] = [e for e in events if isinstance(e, ToolFinished) and e.id == "t-edit"]
    assert (result.text, result.is_error) == ("Applied the change to app.py.", False)
    assert resumed.state.pending_question is None


def test_two_sessions_changing_one_file_never_stack(seed_agent: Agent, tmp_path: Path) -> None:
    """Session B proposes its change while A's is on screen; A's is applied; B's, computed on
    the old text, must not be shown then: an editor would apply its ranges to A's text. The
    model is told the file changed instead."""
    workspace = make_workspace(tmp_path / "ws")
    stale: list[str] = []
    sessions: dict[str, Session] = {}

    async def until(condition: Callable[[], bool], what: str) -> None:
        for _ in range(200):  # bounded: 10 s
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"never happened: {what}")

    class First(ScriptedApprovals):
        """The user reviews A's change slowly: B proposes its own meanwhile."""

        async def ask(self, question: Question) -> Answer:
            if question.id == "edit:t-edit#1":
                await until(lambda: "t-edit" in sessions["b"].state.started, "B proposes")
                await asyncio.sleep(0.3)  # B's edit tool reads the file and proposes
            return await super().ask(question)

    class Second(ScriptedApprovals):
        """B's preview, if shown, is looked at after A's was applied, as in an editor."""

        async def ask(self, question: Question) -> Answer:
            change = question.change
            if question.id == "edit:t-edit#1" and change is not None:
                await until(lambda: "t-edit" in sessions["a"].state.applied, "A applied")
                if drift(change, workspace) is not Drift.NONE:
                    stale.append(question.id)
            return await super().ask(question)

    async def run_both(server: ScriptedServer) -> None:
        for name, task, approvals in (
            ("a", "Fix add()", First()),
            ("b", "Fix add() and add mul()", Second()),
        ):
            sessions[name] = Session.start(
                seed_agent, workspace, task, provider(server.base_url), approvals
            )
        task_a = asyncio.create_task(sessions["a"].run())
        # B starts once A's change is on screen, so both proposals have one base.
        await until(lambda: "edit:t-edit#1" in sessions["a"].state.questions, "A asks")
        await asyncio.gather(task_a, sessions["b"].run())

    with ScriptedServer(Inserting()) as server:
        asyncio.run(asyncio.wait_for(run_both(server), 120))
    assert stale == []
    assert "t-edit" in sessions["a"].state.applied
    assert (workspace / "app.py").read_text() == APP.replace("a - b\n", "a + b\n" + ADDED)
    result = sessions["b"].state.results["t-edit"]
    assert result["is_error"] and "the file on disk changed since" in result["text"], result
    assert "Read the file again" in result["text"]
