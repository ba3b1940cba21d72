"""The approved plan as each phase's contract: a file the running phase did not declare is a
plan amendment, asked (as a diff of the plan, with the model's reason) before the change is
even proposed; nothing changes until it is answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from plangate.agents import Agent
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import Answer, Question, ScriptedApprovals
from plangate.workflow.contract import declares
from plangate.workflow.plan import PhasePlan
from plangate.workflow.session import Session
from plangate.workflow.state import Status
from tests.workflow.scenario import Model, happy_path, make_workspace, provider, tool_results

REASON = "util.py holds the same subtraction; it must add too."


def _steps() -> list[ScriptedTurn]:
    steps = happy_path()
    steps[3] = ScriptedTurn(
        text=REASON,
        tool_calls=[ToolUse("write", {"file_path": "util.py", "content": "X = 1\n"}, id="t-util")],
    )
    return steps


def _run(agent: Agent, workspace: Path, approvals: ScriptedApprovals) -> tuple[Session, list[str]]:
    with ScriptedServer(Model(_steps())) as server:
        session = Session.start(agent, workspace, "Fix add()", provider(server.base_url), approvals)
        state = asyncio.run(session.run())
        sent = tool_results(server.message_requests[-1].body)
    assert state.status is Status.COMPLETED, state.reason
    return session, sent


def test_an_undeclared_file_is_an_amendment_asked_before_anything_changes(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = make_workspace(tmp_path / "ws")
    seen: list[bool] = []

    def answer(question: Question) -> Answer | None:
        if question.kind == "amendment":
            seen.append((workspace / "util.py").exists())
        return None  # the first choice: approve

    approvals = ScriptedApprovals(decide=answer)
    session, _ = _run(seed_agent, workspace, approvals)

    [amendment] = [q for q in approvals.asked if q.kind == "amendment"]
    assert amendment.title == f"Phase 1 also changes util.py: {REASON}"
    assert amendment.document is not None and "+- `util.py`" in amendment.document
    assert seen == [False], "nothing was written before the amendment was answered"
    kinds = [q.kind for q in approvals.asked]
    # The amendment comes before the change's own review.
    assert kinds.index("amendment") < max(
        i for i, q in enumerate(approvals.asked) if q.kind == "edit" and "util.py" in q.title
    )
    assert (workspace / "util.py").read_text() == "X = 1\n"
    state = session.state
    assert state.plan is not None and "util.py" in state.plan.phases[0].files
    [recorded] = state.amendments
    assert (recorded.phase, recorded.files, recorded.reason) == (1, ["util.py"], REASON)


def test_a_rejected_amendment_changes_nothing_and_tells_the_model(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = make_workspace(tmp_path / "ws")
    approvals = ScriptedApprovals({"amendment": [("reject", "Leave util.py alone.")]})
    session, sent = _run(seed_agent, workspace, approvals)

    assert not (workspace / "util.py").exists()
    assert not any(q.kind == "edit" and "util.py" in q.title for q in approvals.asked)
    assert any(
        "did not amend the plan: util.py" in t and "Leave util.py alone." in t for t in sent
    ), sent
    state = session.state
    assert state.plan is not None and "util.py" not in state.plan.phases[0].files
    assert state.amendments == []


def test_what_a_phase_declares() -> None:
    phase = PhasePlan(
        name="API",
        goal="g",
        steps=["s"],
        files=["app/routes.py", "app/models/", "tests/test_*.py", "migrations/**"],
        acceptance_criteria=["a"],
    )
    assert declares(phase, "app/routes.py")
    assert declares(phase, "app/models/user.py")  # under a declared folder
    assert declares(phase, "tests/test_api.py")
    assert not declares(phase, "tests/unit/test_api.py")  # `*` stays in its folder
    assert declares(phase, "migrations/versions/001_init.py")
    assert not declares(phase, "app/auth.py")
    assert not declares(phase, "app/routes.py.bak")


def test_once_amended_the_change_is_the_phases_own(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    approvals = ScriptedApprovals()
    _run(seed_agent, workspace, approvals)
    [edit] = [q for q in approvals.asked if q.kind == "edit" and "util.py" in q.title]
    assert edit.title == "Apply the change to util.py?", edit.title
    assert edit.change is not None and edit.change.in_phase is True
