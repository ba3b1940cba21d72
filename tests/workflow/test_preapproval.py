"""Before the plan is approved nothing changes: 30+ attempts, all refused and explained."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

from plangate.agents import Agent
from plangate.model.anthropic import RetryPolicy
from plangate.model.factory import provider_for
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import Status

from .scenario import Model, make_workspace, plan_input

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "preapproval.jsonl"


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".plangate" not in p.parts
    }


def test_nothing_changes_before_the_plan_is_approved(seed_agent: Agent, tmp_path: Path) -> None:
    attempts = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    assert len(attempts) >= 30
    workspace = make_workspace(tmp_path / "ws")
    (workspace / "script.sh").write_text("echo x > app.py\n")
    before = _snapshot(workspace)
    steps = [
        ScriptedTurn(tool_calls=[ToolUse(a["tool"], a["input"], id=f"t{i}")])
        for i, a in enumerate(attempts)
    ] + [ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input(), id="t-plan")])]
    # Nobody is asked anything before the plan: gates refuse without a question.
    approvals = ScriptedApprovals({"plan": ["reject"]})
    with ScriptedServer(Model(steps)) as server:
        provider = provider_for(
            "claude-sonnet-4-6",
            api_key="offline",
            base_url=server.base_url,
            retry=RetryPolicy(max_attempts=2),
        )
        session = Session.start(seed_agent, workspace, "Fix add()", provider, approvals)
        state = asyncio.run(session.run())
    assert state.status is Status.CANCELLED
    assert [q.kind for q in approvals.asked] == ["plan"]
    for i, attempt in enumerate(attempts):
        result = state.results[f"t{i}"]
        assert result["is_error"], attempt
        text = result["text"]
        assert "Refused" in text or "not allowed" in text, (attempt, text)
        assert "plan" in text or "not allowed" in text, (attempt, text)  # explained to the model
    assert _snapshot(workspace) == before
