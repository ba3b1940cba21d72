"""Warnings on denied attempts outlive the server: a new `plangate serve` on the workspace puts
them back once it reopens the session (the client lists the sessions, as VS Code does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.bare import Editor
from tests.workflow.scenario import Model, make_workspace, plan_input


def _attempt_warnings(editor: Editor) -> list[tuple[str, str]]:
    """(uri, message) of every published warning from a denied attempt."""
    found = []
    for params in editor.kinds("textDocument/publishDiagnostics"):
        for diagnostic in params["diagnostics"]:
            if "the agent tried" in diagnostic["message"]:
                found.append((params["uri"], diagnostic["message"]))
    return found


def test_denied_attempt_warnings_survive_a_restart(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws").resolve()
    steps = [
        ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input(), id="t-plan")]),
        ScriptedTurn(
            tool_calls=[ToolUse("write", {"file_path": ".env", "content": "X=1\n"}, id="t-env")]
        ),
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "done"}, id="t-done")]),
    ]
    with ScriptedServer(Model(steps)) as server:
        first = Editor(workspace, server.base_url, tmp_path / "first.log")
        try:
            session_id = first.start_phase_1("Fix add()")
            first.until(session_id, lambda _: bool(_attempt_warnings(first)))
            before = _attempt_warnings(first)
            assert [uri for uri, _ in before] == [(workspace / ".env").as_uri()], before
        finally:
            first.close()
        second = Editor(workspace, server.base_url, tmp_path / "second.log")
        try:
            listed: Any = second.request("plangate/listSessions", {})
            assert [s["sessionId"] for s in listed["sessions"]] == [session_id]
            after = _attempt_warnings(second)
            assert sorted(after) == sorted(before), (before, after)
        finally:
            second.close()
