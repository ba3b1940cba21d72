"""A project set up for opencode and Claude Code runs as it is: an agent from .claude/agents/,
opencode.json's rules, default model and instructions, and AGENTS.md, in one real session (the
real SDK against the scripted Messages API)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from plangate.agents import find_agent
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import Status

from .scenario import Model, happy_path, make_workspace, provider

OPENCODE_JSON = """{
  // project-wide: no deploys from an agent
  "$schema": "https://opencode.ai/config.json",
  "model": "anthropic/claude-sonnet-4-6",
  "instructions": ["docs/conventions.md"],
  "permission": {
    "bash": {
      "make deploy*": "deny",
    },
  },
}
"""

AGENT = """---
name: api-builder
description: Builds and fixes the API: small, tested changes
tools: Read, Edit, Write, Bash, Grep, mcp__github__create_pull_request
maxTurns: 40
permissionMode: plan
---
You build HTTP APIs.
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample workspace as an opencode + Claude Code user has it; no user-level files."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.delenv("OPENCODE_CONFIG", raising=False)
    workspace = make_workspace(tmp_path / "ws")
    (workspace / ".git").mkdir()  # the repository root: instructions are looked for up to it
    (workspace / "opencode.json").write_text(OPENCODE_JSON)
    (workspace / "AGENTS.md").write_text("# Conventions\n\nAlways write the test first.\n")
    (workspace / "docs").mkdir()
    (workspace / "docs" / "conventions.md").write_text("Name things plainly.\n")
    (workspace / ".claude" / "agents").mkdir(parents=True)
    (workspace / ".claude" / "agents" / "api-builder.md").write_text(AGENT)
    return workspace


def test_the_agent_the_rules_and_the_instructions_of_all_three(project: Path) -> None:
    agent = find_agent("api-builder", project)
    assert agent.errors == [], agent.errors
    assert agent.model_id == "claude-sonnet-4-6"  # opencode.json's model: the agent names none
    assert agent.steps == 40  # maxTurns
    [rule] = agent.permission["bash"]
    assert rule.pattern == "make deploy*" and rule.pos is not None
    assert (rule.pos.file.name, rule.pos.line) == ("opencode.json", 8)

    steps = happy_path()
    # Phase 1 tries a deploy: opencode.json denies it, whatever the command's spacing.
    steps[3] = ScriptedTurn(
        tool_calls=[ToolUse("bash", {"command": "make  deploy-prod"}, id="t-d")]
    )
    with ScriptedServer(Model(steps)) as server:
        session = Session.start(
            agent, project, "Fix add() in app.py", provider(server.base_url), ScriptedApprovals()
        )
        state = asyncio.run(session.run())
        requests = [r.body for r in server.message_requests]

    assert state.status is Status.COMPLETED, state.reason
    system = "".join(block["text"] for block in requests[0]["system"])
    assert system.startswith("You build HTTP APIs.")
    assert f"Instructions from: {project / 'AGENTS.md'}\n# Conventions" in system
    assert (
        f"Instructions from: {project / 'docs' / 'conventions.md'}\nName things plainly." in system
    )
    # The same prefix in every request: the prompt cache keeps it.
    assert all("".join(b["text"] for b in r["system"]) == system for r in requests)
    assert requests[0]["model"] == "claude-sonnet-4-6"
    denied = [m for m in session.log.read() if m.type == "denied"]
    assert [d.data["target"] for d in denied] == ["make  deploy-prod"]
    assert "opencode.json" in str(denied[0].data["rule"]["file"])
    [read] = [m for m in session.log.read() if m.type == "instructions"]
    assert read.data["files"] == [
        str(project / "AGENTS.md"),
        str(project / "docs" / "conventions.md"),
    ]


def test_agents_in_opencode_json_and_its_rules_for_every_agent(project: Path) -> None:
    (project / "opencode.json").write_text(
        OPENCODE_JSON.replace(
            '"instructions"',
            '"agent": {"reviewer": {"description": "Reviews", "mode": "subagent",'
            ' "permission": {"*": "deny", "read": "allow"}}},\n  "instructions"',
        )
    )
    reviewer = find_agent("reviewer", project)
    assert reviewer.errors == [], reviewer.errors
    assert reviewer.source.path.name == "opencode.json"
    assert not reviewer.tool_enabled("bash") and not reviewer.tool_enabled("edit")
    assert reviewer.tool_enabled("read")
    # The bundled agent keeps its own model, and gets the project's rule too.
    seed = find_agent("backend-developer", project)
    assert any(r.pattern == "make deploy*" for r in seed.permission["bash"])
    assert seed.model == "anthropic/claude-sonnet-4"


def test_an_opencode_json_that_cannot_be_read_stops_the_agents(project: Path) -> None:
    """Its rules must not just go missing: opencode refuses to start too."""
    broken = OPENCODE_JSON.replace('"make deploy*": "deny",', '"make deploy*": "deny"\n "x": 1')
    (project / "opencode.json").write_text(broken)
    agent = find_agent("api-builder", project)
    assert [d.code for d in agent.errors] == ["config"], agent.errors
    assert agent.errors[0].pos.file.name == "opencode.json"


def test_instructions_the_agent_may_not_read_stay_out_of_the_prompt(project: Path) -> None:
    (project / ".env").write_text("API_TOKEN=secret-value\n")
    (project.parent / "outside.md").write_text("Not the project's.\n")
    (project / "opencode.json").write_text(
        OPENCODE_JSON.replace(
            '["docs/conventions.md"]', '["docs/conventions.md", ".env", "../outside.md"]'
        )
    )
    agent = find_agent("api-builder", project)
    with ScriptedServer(Model(happy_path())) as server:
        session = Session.start(
            agent, project, "Fix add() in app.py", provider(server.base_url), ScriptedApprovals()
        )
    [read] = [e.data for e in session.log.read() if e.type == "instructions"]
    assert "secret-value" not in read["text"] and "Not the project's" not in read["text"]
    assert "Name things plainly." in read["text"]
    left_out = " ".join(read["notes"])
    assert ".env: left out" in left_out and "outside.md: left out" in left_out, read["notes"]
