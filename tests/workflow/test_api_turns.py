"""How a session answers what the real Messages API does: truncation, a full context window,
refusals, thinking in tool loops, a change of model, a restart after a recorded turn.

The scripted server is strict: a request the API would reject fails the test by itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from plangate.agents import Agent
from plangate.model.catalog import model_table
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.model.types import Thinking
from plangate.workflow.approvals import Answer, Question, ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import Status

from .scenario import Model, happy_path, make_workspace, plan_input, provider

MODEL = "claude-sonnet-4-6"


def start(
    agent: Agent,
    workspace: Path,
    server: ScriptedServer,
    model: str = MODEL,
    thinking: Thinking | None = None,
    seen: list[tuple[str, dict[str, Any]]] | None = None,
) -> Session:
    return Session.start(
        agent,
        workspace,
        "Fix add() in app.py",
        provider(server.base_url, model, thinking),
        ScriptedApprovals(),
        model=model_table().get(model),
        on_event=(
            (lambda e: seen.append((e.type, e.model_dump(exclude={"type"}))))
            if seen is not None
            else None
        ),
    )


def last_roles(server: ScriptedServer) -> list[str]:
    return [r.body["messages"][-1]["role"] for r in server.message_requests]


def test_text_cut_by_max_tokens_is_continued_by_a_user_turn(
    seed_agent: Agent, tmp_path: Path
) -> None:
    steps = [ScriptedTurn(text="I will first", stop_reason="max_tokens"), *happy_path()]
    workspace = make_workspace(tmp_path / "ws")
    with ScriptedServer(Model(steps)) as server:
        state = asyncio.run(start(seed_agent, workspace, server).run())
        second = server.message_requests[1].body["messages"]
    assert state.status is Status.COMPLETED, state.reason
    assert set(last_roles(server)) == {"user"}  # never a trailing assistant message
    assert second[-2] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "I will first"}],
    }
    assert "cut by the output limit" in second[-1]["content"][-1]["text"]


def told_cut(body: dict[str, Any]) -> bool:
    """Whether the model has been told its answer was cut."""
    return "cut by the output limit" in json.dumps(body["messages"])


def test_a_tool_call_cut_by_max_tokens_never_runs(seed_agent: Agent, tmp_path: Path) -> None:
    cut = ScriptedTurn(
        tool_calls=[ToolUse("bash", {"command": "echo cut >> CUT.txt"})], stop_reason="max_tokens"
    )
    happy = Model()
    workspace = make_workspace(tmp_path / "ws")
    with ScriptedServer(lambda body: happy(body) if told_cut(body) else cut) as server:
        state = asyncio.run(start(seed_agent, workspace, server).run())
        second = server.message_requests[1].body["messages"]
    assert state.status is Status.COMPLETED, state.reason
    assert not (workspace / "CUT.txt").exists()
    assert second[-1]["content"][-1]["text"].startswith(
        "Your answer was cut by the output limit; its last tool call was incomplete and did not run"
    )


def test_answers_cut_again_and_again_pause_the_session(seed_agent: Agent, tmp_path: Path) -> None:
    cut = ScriptedTurn(text="Well", stop_reason="max_tokens")
    workspace = make_workspace(tmp_path / "ws")
    with ScriptedServer(lambda body: cut) as server:
        state = asyncio.run(start(seed_agent, workspace, server).run())
        sent = len(server.message_requests)
    assert state.status is Status.PAUSED and "3 times in a row" in state.reason
    assert sent == 3


def test_a_full_context_window_clears_and_retries_the_turn(
    seed_agent: Agent, tmp_path: Path
) -> None:
    steps = happy_path()
    # After the first read, the model hits the window once; the turn is retried.
    exceeded = ScriptedTurn(
        text="Now I",
        tool_calls=[ToolUse("read", {"file_path": "app.py"})],
        stop_reason="model_context_window_exceeded",
    )
    calls = {"n": 0}

    def model(body: dict[str, Any]) -> ScriptedTurn:
        turn = Model(steps)(body)
        if sum(1 for m in body["messages"] if m["role"] == "assistant") == 1 and calls["n"] == 0:
            calls["n"] += 1
            return exceeded
        return turn

    workspace = make_workspace(tmp_path / "ws")
    with ScriptedServer(model) as server:
        session = start(seed_agent, workspace, server)
        state = asyncio.run(session.run())
        cut, retried = (r.body["messages"] for r in server.message_requests[1:3])
        later = [json.dumps(r.body["messages"]) for r in server.message_requests[2:]]
    assert state.status is Status.COMPLETED, state.reason
    events = [e for e in session.log.read() if e.type == "context"]
    assert events and events[0].data["exceeded"]
    # Nothing of the cut turn entered the conversation: the retry asks the same question again.
    assert len(retried) == len(cut) and retried[-1]["role"] == "user"
    assert not any("Now I" in text for text in later)


def test_a_refusal_pauses_with_its_category_and_explanation(
    seed_agent: Agent, tmp_path: Path
) -> None:
    refusal = ScriptedTurn(
        text="I can't help with that.",
        stop_reason="refusal",
        stop_details={"type": "refusal", "category": "cyber", "explanation": "Exploit code."},
    )
    seen: list[tuple[str, dict[str, Any]]] = []
    workspace = make_workspace(tmp_path / "ws")
    with ScriptedServer([refusal]) as server:
        state = asyncio.run(start(seed_agent, workspace, server, seen=seen).run())
    assert state.status is Status.PAUSED
    assert state.reason.startswith("the model refused (cyber): Exploit code.")
    assert ("refusal", {"category": "cyber", "explanation": "Exploit code."}) in seen
    assert state.messages[-1]["role"] == "user"  # the refused turn is not kept


def thinking_path() -> list[ScriptedTurn]:
    return [
        ScriptedTurn(thinking=f"Step {i}: what next?", text=t.text, tool_calls=t.tool_calls)
        for i, t in enumerate(happy_path())
    ]


def test_thinking_is_shown_and_passed_back_unchanged(seed_agent: Agent, tmp_path: Path) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    workspace = make_workspace(tmp_path / "ws")
    with ScriptedServer(Model(thinking_path())) as server:
        state = asyncio.run(start(seed_agent, workspace, server, seen=seen).run())
        bodies = [r.body for r in server.message_requests]
    assert state.status is Status.COMPLETED, state.reason
    assert bodies[0]["thinking"] == {"type": "adaptive", "display": "summarized"}
    shown = "".join(d["text"] for k, d in seen if k == "thinking")
    assert "Step 0: what next?" in shown and "Step 3: what next?" in shown
    loop = bodies[1]["messages"][1]["content"]
    assert loop[0]["type"] == "thinking" and loop[0]["thinking"] == "Step 0: what next?"


class StopAtPlan(ScriptedApprovals):
    """Leaves the plan unanswered: the session stops there, as when the editor closes."""

    async def ask(self, question: Question) -> Answer:
        raise asyncio.CancelledError


def test_after_a_model_switch_old_thinking_is_dropped(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    steps = thinking_path()
    with ScriptedServer(Model(steps)) as server:
        first = Session.start(
            seed_agent,
            workspace,
            "Fix add() in app.py",
            provider(server.base_url),
            StopAtPlan(),
            model=model_table().get(MODEL),
        )
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(first.run())
    assert first.state.status is Status.PLAN_PROPOSED
    assert any(b["type"] == "thinking" for b in first.state.messages[1]["content"])
    with ScriptedServer(Model(steps)) as server:
        reopened = Session.open(
            seed_agent,
            workspace,
            first.state.id,
            provider(server.base_url, "claude-opus-4-8"),
            ScriptedApprovals(),
            model=model_table().get("claude-opus-4-8"),
        )
        state = asyncio.run(reopened.run())
        sent = server.message_requests[0].body["messages"]
        later = server.message_requests[-1].body["messages"]
    assert state.status is Status.COMPLETED, state.reason
    assert not any(
        b["type"] == "thinking" for m in sent if m["role"] == "assistant" for b in m["content"]
    )
    assert any(
        b["type"] == "thinking" for m in later if m["role"] == "assistant" for b in m["content"]
    )


def test_a_turn_recorded_before_a_restart_is_followed_up_not_prefilled(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = make_workspace(tmp_path / "ws")
    with ScriptedServer([ScriptedTurn(text="Thinking aloud, no tool.")]) as server:
        session = start(seed_agent, workspace, server)
        # Simulate a crash right after the model's turn was recorded.
        session.on_event = lambda event: None
        original = session._follow_up
        session._follow_up = lambda done: session.pause("killed")  # type: ignore[method-assign]
        asyncio.run(session.run())
        session._follow_up = original  # type: ignore[method-assign]
    assert session.state.messages[-1]["role"] == "assistant"
    plan = ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input())])
    with ScriptedServer([plan]) as server:
        reopened = Session.open(
            seed_agent,
            workspace,
            session.state.id,
            provider(server.base_url),
            StopAtPlan(),
            model=model_table().get(MODEL),
        )
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(reopened.resume())
        [request] = server.message_requests
    assert request.body["messages"][-1]["role"] == "user"  # no prefill after the restart
    assert "Call propose_plan" in request.body["messages"][-1]["content"][-1]["text"]
    assert reopened.state.status is Status.PLAN_PROPOSED
