"""MCP tools in a real session (the real SDK against the scripted Messages API, real MCP servers
over stdio): configured in opencode.json and .mcp.json, offered to the model, and held to the
same gates: before the plan only read-only tools run; the seed agent's `git commit` and
`git add` denies hold for mcp-server-git's tools at every stage."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plangate.agents import find_agent
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import Status
from tests.workflow.scenario import Model, happy_path, make_workspace, plan_input, provider


def _git(repo: Path, *args: str) -> str:
    config = ["-c", "user.name=T", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    done = subprocess.run(
        ["git", *config, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git_server: Path, everything_server: list[str]
) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    workspace = make_workspace(tmp_path / "ws")
    _git(workspace, "init", "-q")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "start")
    (workspace / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "git": {"command": str(git_server), "args": ["--repository", str(workspace)]}
                }
            }
        )
    )
    (workspace / "opencode.json").write_text(
        json.dumps({"mcp": {"everything": {"type": "local", "command": everything_server}}})
    )
    return workspace


def _call(name: str, args: dict[str, Any], id: str) -> ToolUse:
    return ToolUse(name, args, id=id)


def test_mcp_tools_under_the_plan_gate_and_the_seed_agents_rules(project: Path) -> None:
    repo = {"repo_path": str(project)}
    steps = happy_path()
    steps[0] = ScriptedTurn(
        text="Looking around.",
        tool_calls=[
            _call("mcp__git__git_status", repo, "m-status"),
            _call("mcp__git__git_commit", {**repo, "message": "early"}, "m-commit-early"),
            _call("mcp__everything__toggle-simulated-logging", {}, "m-toggle-early"),
            _call("read", {"file_path": "app.py"}, "t-read"),
        ],
    )
    steps[1] = ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input(), id="t-plan")])
    steps[3] = ScriptedTurn(
        tool_calls=[
            _call("mcp__everything__echo", {"message": "hello"}, "m-echo"),
            _call("mcp__everything__toggle-simulated-logging", {}, "m-toggle"),
            _call("mcp__everything__get-tiny-image", {}, "m-image"),
            _call("mcp__everything__echo", {"message": "x" * 100_000}, "m-big"),
            _call("mcp__git__git_add", {**repo, "files": ["app.py"]}, "m-add"),
            _call("mcp__git__git_commit", {**repo, "message": "in phase 1"}, "m-commit"),
        ]
    )
    agent = find_agent("backend-developer", project)
    approvals = ScriptedApprovals()
    with ScriptedServer(Model(steps)) as server:
        session = Session.start(
            agent, project, "Fix add() in app.py", provider(server.base_url), approvals
        )
        state = asyncio.run(session.run())
        offered = {tool["name"] for tool in server.message_requests[0].body["tools"]}
        sent = [
            b
            for r in server.message_requests
            for m in r.body["messages"]
            for b in m["content"]
            if isinstance(b, dict) and b.get("tool_use_id") == "m-image"
        ]

    assert state.status is Status.COMPLETED, state.reason
    assert {"mcp__git__git_commit", "mcp__everything__echo"} <= offered
    results = {e.data["id"]: e.data for e in session.log.read() if e.type == "tool_result"}
    assert not results["m-status"]["is_error"] and "On branch" in results["m-status"]["text"]
    early = results["m-commit-early"]
    assert early["is_error"] and "plan" in early["text"].lower(), early
    assert results["m-echo"]["text"] == "Echo: hello"
    # A large result is capped like any tool's, the whole of it kept for the read tool.
    big = results["m-big"]["text"]
    assert len(big) < 50_000 and "characters cut; the full result is in" in big
    # An image comes to the model as an image block in the tool's result.
    image = sent[0]["content"]
    assert image[0]["type"] == "text" and image[1]["type"] == "image", image
    assert image[1]["source"]["media_type"] == "image/png" and image[1]["source"]["data"]
    # A tool that does not declare it only reads: refused before the plan, asked after it.
    assert results["m-toggle-early"]["is_error"], results["m-toggle-early"]
    assert not results["m-toggle"]["is_error"], results["m-toggle"]
    asked = [q.title for q in approvals.asked if q.kind == "permission"]
    assert any("mcp__everything__toggle-simulated-logging" in t for t in asked), asked
    assert not any("git_commit" in t or "git_add" in t for t in asked), asked  # denied, not asked
    for call in ("m-add", "m-commit"):
        assert results[call]["is_error"] and results[call]["text"].startswith("Denied"), results[
            call
        ]
    assert "git commit" in results["m-commit"]["text"]
    # Nothing was committed or staged, at any stage.
    assert _git(project, "rev-list", "--count", "HEAD").strip() == "1"
    assert _git(project, "diff", "--cached", "--name-only").strip() == ""
    connected = {e.data["name"]: e.data for e in session.log.read() if e.type == "mcp"}
    assert set(connected) == {"git", "everything"} and not any(
        c["error"] for c in connected.values()
    )


def test_plangate_mcp_lists_servers_tools_and_what_the_rules_say(project: Path) -> None:
    import io

    from plangate.mcp.listing import print_servers

    (project / "opencode.json").write_text(
        json.dumps({"mcp": {"broken": {"type": "local", "command": [str(project / "no-such")]}}})
    )
    agent = find_agent("backend-developer", project)
    unasked = io.StringIO()
    assert print_servers(project, agent, unasked) == 0
    assert "the project's: not started" in unasked.getvalue()
    assert "mcp__git__" not in unasked.getvalue(), "a project's server is not started unasked"
    out = io.StringIO()
    code = print_servers(project, agent, out, project_servers=True)
    lines = out.getvalue().splitlines()
    assert code == 1  # one server did not start: said, not a crash
    commit = next(line for line in lines if "mcp__git__git_commit" in line)
    assert "before the plan: refused" in commit and "in a phase: deny" in commit
    status = next(line for line in lines if "mcp__git__git_status " in line)
    assert "read-only" in status and "before the plan: runs" in status
    assert any("'broken'" in line and "did not start" in line for line in lines), lines


def test_a_project_server_starts_only_once_the_user_agrees(project: Path) -> None:
    from plangate.workflow.approvals import Answer, Question

    def refuse_git(question: Question) -> Answer | None:
        return Answer(choice="deny") if question.id.startswith("mcp-server:git#") else None

    approvals = ScriptedApprovals(decide=refuse_git)
    agent = find_agent("backend-developer", project)
    with ScriptedServer(Model(happy_path())) as server:
        session = Session.start(
            agent, project, "Fix add() in app.py", provider(server.base_url), approvals
        )
        state = asyncio.run(session.run())
        offered = {tool["name"] for tool in server.message_requests[0].body["tools"]}

    assert state.status is Status.COMPLETED, state.reason
    asked = [q.title for q in approvals.asked if q.id.startswith("mcp-server:")]
    assert len(asked) == 2 and all("outside the sandbox" in t for t in asked), asked
    assert "mcp__everything__echo" in offered
    assert not any(name.startswith("mcp__git__") for name in offered)
    connected = {e.data["name"]: e.data for e in session.log.read() if e.type == "mcp"}
    assert connected["git"]["error"] == "MCP server 'git' not started: the user said no"


def test_an_mcp_call_cut_off_by_a_stop_is_not_run_again(project: Path) -> None:
    """Like a command: a call that was running when PlanGate stopped may have done its work,
    so on resume it is reported as interrupted, not repeated."""
    steps = happy_path()
    steps[3] = ScriptedTurn(
        tool_calls=[_call("mcp__everything__toggle-simulated-logging", {}, "m-toggle")]
    )
    agent = find_agent("backend-developer", project)
    with ScriptedServer(Model(steps)) as server:
        session = Session.start(
            agent, project, "Fix add() in app.py", provider(server.base_url), ScriptedApprovals()
        )
        asyncio.run(session.run())
        # PlanGate "stopped" while the call ran: its log ends at the call's start.
        log = session.log_path(project, session.state.id)
        lines = log.read_text().splitlines(keepends=True)
        cut = next(
            i for i, line in enumerate(lines) if '"tool_started"' in line and "m-toggle" in line
        )
        log.write_text("".join(lines[: cut + 1]))
        reopened = Session.open(
            agent, project, session.state.id, provider(server.base_url), ScriptedApprovals()
        )
        state = asyncio.run(reopened.run())

    result = state.results["m-toggle"]
    assert result["is_error"] and "interrupted when PlanGate restarted" in result["text"], result
    [interrupted] = [e.data for e in reopened.log.read() if e.type == "interrupted"]
    assert interrupted["kind"] == "mcp" and "toggle-simulated-logging" in interrupted["command"]
