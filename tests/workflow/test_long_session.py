"""A 200-turn session whose tool results add up to several times the context window finishes,
staying inside the window and reading most of its prompt from the cache.

Claude Haiku 4.5 (200K tokens) keeps the test small; the scripted server enforces its window
("prompt is too long" above it), its minimum cacheable length, and every other API rule.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from plangate.agents import Agent
from plangate.model.catalog import model_table
from plangate.model.context import ELIDED
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import Status

from .scenario import assistant_turns, plan_input, provider

MODEL = "claude-haiku-4-5"
TURNS = 200
FILES = 40
FILE_BYTES = 12_000  # ~3,000 tokens a read: ~600K tokens of results in all


class LongModel:
    """Reads a different file every turn, then plans, completes the phase and stops."""

    def __call__(self, body: dict[str, Any]) -> ScriptedTurn:
        turn = assistant_turns(body)
        if turn < TURNS - 3:
            path = f"data/f{turn % FILES:02d}.txt"
            return ScriptedTurn(
                text=f"Reading {path}.", tool_calls=[ToolUse("read", {"file_path": path})]
            )
        if turn == TURNS - 3:
            return ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input())])
        if turn == TURNS - 2:
            return ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "read"})])
        return ScriptedTurn(text="Done.")


def test_two_hundred_turns_fit_the_window_and_keep_the_cache(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    (workspace / "data").mkdir(parents=True)
    for index in range(FILES):
        line = f"record {index:02d}: " + "lorem ipsum dolor sit amet " * 3 + "\n"
        (workspace / "data" / f"f{index:02d}.txt").write_text(line * (FILE_BYTES // len(line)))
    model = model_table().get(MODEL)
    assert model is not None

    with ScriptedServer(LongModel()) as server:
        session = Session.start(
            seed_agent,
            workspace,
            "Read everything",
            provider(server.base_url, MODEL),
            ScriptedApprovals(),
            model=model,
        )
        state = asyncio.run(session.run())
        usages = [r.usage for r in server.message_requests if r.usage]
        elided_in_last = sum(
            1
            for m in server.message_requests[-1].body["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b.get("type") == "tool_result" and b.get("content") == ELIDED
        )

    assert state.status is Status.COMPLETED, state.reason
    assert state.turns == TURNS
    results = sum(len(r["text"]) for r in state.results.values()) // 4
    assert results > 2.5 * model.context_window  # several windows' worth of tool output
    prompts = [
        u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
        for u in usages
    ]
    peak = max(prompts)
    read_share = sum(u["cache_read_input_tokens"] for u in usages) / sum(prompts)
    clearings = sum(1 for e in session.log.read() if e.type == "context" and e.data.get("elided"))
    print(
        f"\n200-turn session on {MODEL}: tool results ~{results:,} tokens "
        f"({results / model.context_window:.1f} windows); peak prompt {peak:,} tokens "
        f"({peak / model.context_window:.0%} of the window); cache read share {read_share:.1%}; "
        f"{clearings} clearings; {elided_in_last} results elided at the end"
    )
    assert peak < model.context_window
    assert 2 <= clearings <= TURNS // 10  # in large steps, not a little every turn
    assert read_share > 0.80
