"""A client that cannot be asked to open a document (no `window.showDocument`, as eglot 1.9)
is never sent one: it is told where the plan is instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plangate.model.scripted import ScriptedServer
from tests.lsp.bare import PREVIEWS, Editor, ErrorAnswer, yes
from tests.orphans import GONE
from tests.workflow.scenario import APP, Model, make_workspace, tool_results


def test_the_plan_is_named_not_shown_to_a_client_without_show_document(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws").resolve()
    with ScriptedServer(Model()) as scripted:
        editor = Editor(workspace, scripted.base_url, tmp_path / "server.stderr")
        try:
            proposed = editor.request(
                "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add()"}
            )
            editor.request("plangate/listSessions", {})  # after the plan's messages
        finally:
            editor.close()
    # Named for the task: what the editor's tab says.
    plan = workspace / ".plangate" / "plans" / proposed["sessionId"] / "Fix add().md"
    assert plan.exists()
    assert [r for r in editor.requests if r["method"] == "window/showDocument"] == []
    shown = [m["message"] for m in editor.kinds("window/showMessage")]
    assert f"PlanGate: the plan is ready for review in {plan}" in shown


def test_an_edit_declined_with_an_error_is_a_rejection_not_a_pause(tmp_path: Path) -> None:
    """eglot answers a declined edit with a JSON-RPC error ("User cancelled server edit"):
    the model is told the editor did not apply it, and the session goes on."""
    workspace = make_workspace(tmp_path / "ws").resolve()

    def decline(message: dict[str, Any]) -> Any:
        if message["method"] == "workspace/applyEdit":
            return ErrorAnswer(-32603, "User cancelled server edit")
        return yes(message)

    with ScriptedServer(Model()) as scripted:
        editor = Editor(
            workspace, scripted.base_url, tmp_path / "server.stderr", decline, capabilities=PREVIEWS
        )
        try:
            session_id = editor.start_phase_1("Fix add()")

            def answered(summary: dict[str, Any]) -> bool:
                requests = scripted.message_requests
                return any("to app.py" in t for r in requests for t in tool_results(r.body))

            summary = editor.until(session_id, answered)
        finally:
            editor.close()
    [text] = [
        t for r in scripted.message_requests for t in tool_results(r.body) if "to app.py" in t
    ][:1]
    assert text == (
        "The user rejected the change to app.py. The editor did not apply it: "
        "User cancelled server edit."
    )
    assert summary["status"] != "paused", summary["reason"]
    assert (workspace / "app.py").read_text() == APP


def test_shutdown_right_after_initialize_answers_and_exits_cleanly(tmp_path: Path) -> None:
    """shutdown does not wait for the engine's background import (eglot gives it 1.5 s), and
    exit during that import still ends the process cleanly (the import thread is joined)."""
    workspace = make_workspace(tmp_path / "ws").resolve()
    for _ in range(3):  # at different points of the import
        editor = Editor(workspace, "http://127.0.0.1:9", tmp_path / "server.stderr")
        assert editor.request("shutdown", {}) is None
        editor.notify("exit", {})
        assert editor.process.wait(timeout=GONE) == 0
        editor.close()
