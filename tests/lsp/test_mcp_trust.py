"""In the editor, a project's MCP server is started only once the user agrees, asked in a
message that says what it is, where it is configured and that it runs outside the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

from plangate.model.scripted import ScriptedServer
from tests.lsp.conftest import Harness
from tests.mcp.conftest import git_server  # noqa: F401  (the real git server, installed once)


async def test_the_editor_is_asked_before_a_project_server_starts(
    harness: Harness,
    scripted: ScriptedServer,
    git_server: Path,  # noqa: F811
) -> None:
    (harness.workspace / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"git": {"command": str(git_server), "args": ["--help"]}}})
    )
    harness.message_answers = ["Deny"]
    proposed = await harness.request(
        "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add() in app.py"}
    )
    asked = [m.message for m in harness.messages if "MCP server" in m.message]
    assert asked == [
        f"PlanGate: Start the MCP server 'git' (stdio: {git_server} --help) that .mcp.json:1 "
        "configures? It runs with your rights, outside the sandbox."
    ], [m.message for m in harness.messages]
    summary = await harness.request("plangate/sessionStatus", {"sessionId": proposed["sessionId"]})
    [server] = summary["mcpServers"]
    assert server["error"] == "MCP server 'git' not started: the user said no"
