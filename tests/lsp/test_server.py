"""The language server over stdio, driven by pytest-lsp as VS Code and as Neovim would."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from plangate.lsp.params import plain, uri_path
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.conftest import Harness, run_phase_1
from tests.workflow.scenario import tool_results


async def test_list_agents(harness: Harness) -> None:
    result = await harness.request("plangate/listAgents", {})
    [agent] = [a for a in result["agents"] if a["name"] == "backend-developer"]
    assert agent["resolvedModel"] == "claude-sonnet-4-6" and agent["mode"] == "primary"
    assert any("retired" in problem for problem in agent["problems"])


async def test_a_whole_session_from_the_editor(harness: Harness) -> None:
    proposed = await harness.request(
        "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add() in app.py"}
    )
    session_id = proposed["sessionId"]
    assert proposed["plan"]["title"] == "Fix add()" and proposed["status"] == "plan proposed"
    await asyncio.sleep(0.2)
    # The plan document was opened in the editor.
    assert proposed["planUri"] in [d.uri for d in harness.client.shown_documents]

    # The plan document's lenses: approve / revise / reject on the title.
    plan_path = uri_path(proposed["planUri"])
    harness.open(proposed["planUri"], plan_path.read_text())
    lenses = await harness.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=proposed["planUri"]))
    )
    titles = [lens.command.title for lens in lenses if lens.command]
    assert titles[:3] == ["Approve plan", "Revise…", "Reject"]
    approve = next(
        lens.command for lens in lenses if lens.command and lens.command.title == "Approve plan"
    )
    await harness.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=approve.command, arguments=approve.arguments)
    )

    summary = await harness.until(session_id, lambda s: s["pending"] and s["pending"]["phase"] == 1)
    lenses = await harness.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=proposed["planUri"]))
    )
    assert "Approve & run" in [lens.command.title for lens in lenses if lens.command]

    await harness.request(
        "plangate/approvePhase", {"sessionId": session_id, "phase": 1, "decision": "approve"}
    )
    await harness.until(session_id, lambda s: s["pending"] and s["pending"]["phase"] == 2)
    await harness.request(
        "plangate/approvePhase", {"sessionId": session_id, "phase": 2, "decision": "approve"}
    )
    summary = await harness.until(session_id, lambda s: s["status"] == "completed")

    assert (harness.workspace / "app.py").read_text().endswith("a + b\n")
    assert [p["status"] for p in summary["phases"]] == ["done", "done"]
    assert summary["phases"][0]["testsPassed"] >= 1 and summary["phases"][0]["testsFailed"] == 0
    lenses = await harness.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=proposed["planUri"]))
    )
    titles = [lens.command.title for lens in lenses if lens.command]
    assert any(t.startswith("done · ") and t.endswith("passed") for t in titles), titles
    assert "Roll back" in titles
    assert summary["costUsd"] > 0
    # Edits reached the editor as previews; commands as message requests.
    # Two changes: previews the editor applies, or prompts after which the server writes.
    assert len(harness.edits) == (2 if harness.previews else 0)
    annotated = [e for e in harness.edits if e.edit.change_annotations]
    assert all(a.needs_confirmation for e in annotated for a in e.edit.change_annotations.values())
    assert any("echo fixed >> CHANGES.txt" in m.message for m in harness.messages)
    assert any(c["status"] == "completed" for c in harness.changed)
    # Work-done progress for analysis, each phase and validation: each one begun also ended.
    ours = {t: r for t, r in harness.client.progress_reports.items() if str(t).startswith("plan")}
    if harness.client.capabilities.window and harness.client.capabilities.window.work_done_progress:
        kinds = [r[0].kind for r in ours.values()]
        assert len(ours) >= 4 and set(kinds) == {"begin"}, ours
        assert all(r[-1].kind == "end" for r in ours.values()), ours
    assert any(o["kind"] == "text" for o in harness.output)
    listed = await harness.request("plangate/listSessions", {})
    assert session_id in [s["sessionId"] for s in listed["sessions"]]


async def test_an_approval_is_replied_to_before_the_engine_goes_on(harness: Harness) -> None:
    """approvePhase answers first (the question answered); the engine takes the answer after
    the reply, so its sessionChanged notifications follow it. The same question cannot be
    answered twice."""
    proposed = await harness.request(
        "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add() in app.py"}
    )
    session_id = proposed["sessionId"]
    await asyncio.sleep(0.3)  # what proposing the plan sent has arrived
    seen: list[str] = []
    protocol = harness.client.protocol
    handle = protocol.handle_message

    def record(message: Any) -> None:
        if getattr(message, "method", None) == "plangate/sessionChanged":
            seen.append(f"changed: {message.params.status}")
        elif getattr(message, "id", None) in ("first", "second"):
            seen.append(f"reply to {message.id}")
        handle(message)

    protocol.handle_message = record  # type: ignore[method-assign]
    approve = {"sessionId": session_id, "phase": 0, "decision": "approve"}
    first, second = await asyncio.gather(
        protocol.send_request_async("plangate/approvePhase", approve, msg_id="first"),
        protocol.send_request_async("plangate/approvePhase", approve, msg_id="second"),
        return_exceptions=True,
    )
    assert plain(first)["pending"] is None, first
    assert isinstance(second, JsonRpcException) and second.code == -32002, second
    await harness.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 1)
    assert seen[0] == "reply to first", seen
    assert any(s.startswith("changed") for s in seen), seen


BAD_PARAMS = [
    ("plangate/proposePlan", {"agent": "backend-developer"}, -32602, "task"),
    (
        "plangate/approvePhase",
        {"sessionId": "x", "phase": "one", "decision": "approve"},
        -32602,
        "phase",
    ),
    (
        "plangate/approvePhase",
        {"sessionId": "x", "phase": 1, "decision": "maybe"},
        -32602,
        "decision",
    ),
    (
        "plangate/approvePhase",
        {"sessionId": "x", "phase": 1, "decision": "approve"},
        -32001,
        "unknown session",
    ),
    ("plangate/sessionStatus", {"sessionId": "nope"}, -32001, "unknown session"),
    ("plangate/sessionStatus", {}, -32602, "sessionId"),
    ("plangate/proposePlan", {"agent": "nobody", "task": "x"}, -32003, "nobody"),
    ("plangate/executeTool", {"tool": "teleport", "input": {}}, -32602, "tool"),
    ("plangate/executeTool", {"tool": "read", "input": "not an object"}, -32602, "input"),
    ("plangate/rollbackPhase", {"sessionId": "x", "phase": 0}, -32602, "phase"),
    ("plangate/listAgents", {"unexpected": 1}, -32602, "unexpected"),
]


async def test_bad_params_get_clear_errors(harness: Harness) -> None:
    for method, params, code, mentions in BAD_PARAMS:
        with pytest.raises(JsonRpcException) as error:
            await harness.request(method, params)
        assert error.value.code == code, (method, params, error.value)
        assert mentions in error.value.message, (method, params, error.value.message)
    # ... and the server is still there.
    assert (await harness.request("plangate/listAgents", {}))["agents"]


async def test_execute_tool_keeps_the_gates(harness: Harness) -> None:
    grep = await harness.request(
        "plangate/executeTool",
        {"agent": "backend-developer", "tool": "grep", "input": {"pattern": "def add"}},
    )
    assert "app.py:1:def add" in grep["text"] and not grep["isError"]
    write = await harness.request(
        "plangate/executeTool", {"tool": "write", "input": {"file_path": "x.py", "content": "x"}}
    )
    assert write["isError"] and "Refused" in write["text"]
    assert not (harness.workspace / "x.py").exists()


async def test_denied_file_gets_a_diagnostic(harness: Harness) -> None:
    env = harness.workspace / ".env"
    env.write_text("SECRET=1\n")
    harness.open(env.as_uri(), "SECRET=1\n", "dotenv")
    await harness.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    [diagnostic] = harness.client.diagnostics[env.as_uri()]
    assert "**/*.env*" in diagnostic.message and "backend-developer.md:25" in diagnostic.message


async def _started(workspace: Path, scripted: ScriptedServer) -> LanguageClient:
    from pytest_lsp import make_test_lsp_client

    client = make_test_lsp_client()

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_message(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        return params.actions[0] if params.actions else None

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return types.ApplyWorkspaceEditResult(applied=True)

    await client.start_io(sys.executable, "-m", "plangate.cli", "serve")
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
            initialization_options={
                "anthropicApiKey": "offline-test",
                "anthropicBaseUrl": scripted.base_url,
            },
        )
    )
    return client


async def test_a_restarted_server_serves_the_same_session(
    scripted: ScriptedServer, workspace: Path
) -> None:
    first = await _started(workspace, scripted)
    proposed = plain(
        await first.protocol.send_request_async(
            "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add() in app.py"}
        )
    )
    await first.shutdown_session()
    await first.stop()

    second = await _started(workspace, scripted)
    try:
        harness = Harness(second, workspace)
        session_id = proposed["sessionId"]
        await harness.until(session_id, lambda s: s["pending"] and s["pending"]["kind"] == "plan")
        await harness.request(
            "plangate/approvePhase", {"sessionId": session_id, "phase": 0, "decision": "approve"}
        )
        for phase in (1, 2):
            await harness.until(
                session_id, lambda s, p=phase: s["pending"] and s["pending"]["phase"] == p
            )
            await harness.request(
                "plangate/approvePhase",
                {"sessionId": session_id, "phase": phase, "decision": "approve"},
            )
        summary = await harness.until(session_id, lambda s: s["status"] == "completed")
        assert summary["sessionId"] == session_id
        assert (workspace / "app.py").read_text().endswith("a + b\n")
    finally:
        await second.shutdown_session()
        await second.stop()


async def test_agent_files_diagnostics_quick_fix_hover_completion(harness: Harness) -> None:
    path = harness.workspace / ".opencode" / "agent" / "reviewer.md"
    path.parent.mkdir(parents=True)
    text = (
        "---\ndescription: Reviews\nmodel: anthropic/claude-sonnet-4\ntools:\n  reed: true\n"
        'permission:\n  bash:\n    "git push": dney\n---\nReview code.\n'
    )
    path.write_text(text)
    uri = path.as_uri()
    harness.open(uri, text)
    await harness.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    found = {
        (d.code, d.range.start.line, d.range.start.character): d
        for d in harness.client.diagnostics[uri]
    }
    assert found[("invalid-action", 7, 16)].severity == types.DiagnosticSeverity.Error
    assert "did you mean 'read'" in found[("unknown-tool", 4, 2)].message
    retired = found[("model-retired", 2, 7)]
    assert retired.severity == types.DiagnosticSeverity.Warning
    actions = await harness.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=retired.range,
            context=types.CodeActionContext(diagnostics=[retired]),
        )
    )
    [fix] = actions
    assert fix.edit.changes[uri][0].new_text == "model: anthropic/claude-sonnet-4-6"
    info = await harness.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=5, character=2),
        )
    )
    assert "allow | ask | deny" in info.contents.value
    items = await harness.client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=7, character=16),
        )
    )
    labels = [i.label for i in (items.items if hasattr(items, "items") else items)]
    assert labels == ["allow", "ask", "deny"]


async def test_sampling_key_is_a_warning_whose_quick_fix_removes_its_line(
    harness: Harness,
) -> None:
    path = harness.workspace / ".opencode" / "agent" / "warm.md"
    path.parent.mkdir(parents=True)
    text = "---\ndescription: Warm\ntemperature: 0.2\nsteps: 5\n---\nBe warm.\n"
    path.write_text(text)
    uri = path.as_uri()
    harness.open(uri, text)
    await harness.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    [ignored] = harness.client.diagnostics[uri]
    assert ignored.code == "sampling-ignored"
    assert ignored.severity == types.DiagnosticSeverity.Warning
    assert ignored.message == "ignored: the Messages API no longer accepts temperature"
    assert (ignored.range.start.line, ignored.range.start.character) == (2, 0)
    assert ignored.range.end.line == 2
    actions = await harness.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=ignored.range,
            context=types.CodeActionContext(diagnostics=[ignored]),
        )
    )
    [fix] = actions
    assert isinstance(fix, types.CodeAction)
    assert fix.kind == types.CodeActionKind.QuickFix
    assert fix.title == "Remove 'temperature' (ignored: the API no longer accepts it)"
    [edit] = fix.edit.changes[uri]
    assert edit.new_text == ""
    assert edit.range == types.Range(
        start=types.Position(line=2, character=0), end=types.Position(line=3, character=0)
    )
    info = await harness.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=2, character=3),
        )
    )
    assert "Ignored" in info.contents.value and "2026-10-21" in info.contents.value


async def test_progress_and_cancellation(harness: Harness) -> None:
    proposed = await harness.request(
        "plangate/proposePlan",
        {"agent": "backend-developer", "task": "Fix add() in app.py", "workDoneToken": "t-1"},
    )
    assert proposed["status"] == "plan proposed"
    reports = harness.client.progress_reports["t-1"]
    assert reports[0].kind == "begin" and reports[-1].kind == "end"
    cancelled = await harness.request("plangate/cancel", {"sessionId": proposed["sessionId"]})
    assert cancelled["status"] == "cancelled"
    with pytest.raises(JsonRpcException) as error:
        await harness.request(
            "plangate/approvePhase",
            {"sessionId": proposed["sessionId"], "phase": 0, "decision": "approve"},
        )
    assert error.value.code == -32002


async def test_plan_step_on_a_denied_path_gets_a_warning(harness: Harness) -> None:
    proposed = await harness.request(
        "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add() in app.py"}
    )
    path = uri_path(proposed["planUri"])
    # The document as the editor has it, with a step on a denied path added to the files.
    lines = path.read_text().splitlines()
    at = lines.index("- `app.py`") + 1
    lines.insert(at, "- `config/.env.local`")
    harness.open(proposed["planUri"], "\n".join(lines) + "\n")
    await harness.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    [warning] = harness.client.diagnostics[proposed["planUri"]]
    assert warning.range.start.line == at
    assert warning.severity == types.DiagnosticSeverity.Warning
    assert "**/*.env*" in warning.message


async def test_logs_reach_the_client_and_a_rotating_file_without_the_key(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """A whole phase with the key in use (the scripted API refuses any request without it)
    and a secret in .env: neither is in the server's log file, the client's log, or
    anything under .plangate/ (logs, plans, outputs, the checkpoints' objects)."""
    import os
    import zlib

    from tests.lsp.conftest import API_KEY

    scripted.api_key = API_KEY
    secret = "db-password-" + os.urandom(6).hex()
    (harness.workspace / ".env").write_text(f"DB_PASSWORD={secret}\n")
    work = ScriptedTurn(
        tool_calls=[
            ToolUse("read", {"file_path": "app.py"}, id="t-read"),
            ToolUse("bash", {"command": "printenv"}, id="t-env"),
        ]
    )
    session_id, _ = await run_phase_1(harness, scripted, work)

    def printed(_summary: dict[str, Any]) -> bool:
        requests = scripted.message_requests
        return any("PATH=" in t for r in requests for t in tool_results(r.body))

    await harness.until(session_id, printed)
    started = f"session {session_id} started"
    assert any(started in m.message for m in harness.client.log_messages)
    log_file = Path(os.environ["XDG_STATE_HOME"]) / "plangate" / "logs" / "server.log"
    logged = log_file.read_text()
    assert started in logged
    client_log = "\n".join(m.message for m in harness.client.log_messages)
    for secret_text in (API_KEY, secret):
        assert secret_text not in logged and secret_text not in client_log
        for written in (harness.workspace / ".plangate").rglob("*"):
            if not written.is_file():
                continue
            data = written.read_bytes()
            if "/objects/" in str(written):  # git objects are compressed
                data = zlib.decompress(data)
            assert secret_text.encode() not in data, written


async def test_denied_attempts_leave_warnings_on_their_targets(
    harness: Harness, scripted: ScriptedServer
) -> None:
    phase_1 = ScriptedTurn(
        tool_calls=[
            ToolUse("write", {"file_path": ".env", "content": "KEY=1\n"}, id="t-env"),
            ToolUse("bash", {"command": "git push origin main"}, id="t-push"),
        ]
    )
    _, plan_uri = await run_phase_1(harness, scripted, phase_1)
    env_uri = (harness.workspace / ".env").as_uri()
    for _ in range(200):  # bounded: 20 s
        if harness.client.diagnostics.get(env_uri) and harness.client.diagnostics.get(plan_uri):
            break
        await asyncio.sleep(0.1)
    [on_file] = harness.client.diagnostics[env_uri]
    assert on_file.severity == types.DiagnosticSeverity.Warning
    assert "in phase 1: the agent tried to change this file" in on_file.message
    assert "'**/*.env*': deny" in on_file.message and "backend-developer.md:25" in on_file.message
    [on_plan] = harness.client.diagnostics[plan_uri]
    assert "tried to run `git push origin main`" in on_plan.message
    assert "'git push': deny" in on_plan.message
    plan_lines = uri_path(plan_uri).read_text().splitlines()
    assert plan_lines[on_plan.range.start.line].startswith("## Phase 1: ")
    assert not (harness.workspace / ".env").exists()


async def test_execute_tool_edits_in_a_running_phase_go_through_the_preview(
    harness: Harness, scripted: ScriptedServer
) -> None:
    phase_1 = ScriptedTurn(
        tool_calls=[
            ToolUse("read", {"file_path": "app.py"}, id="t-read"),
            ToolUse("bash", {"command": "sleep 6"}, id="t-sleep"),  # the phase keeps running
        ]
    )
    session_id, _ = await run_phase_1(harness, scripted, phase_1)
    for _ in range(100):  # bounded: 10 s, until the agent has read app.py and sleeps
        if any(o["kind"] == "tool_started" and o["text"] == "bash" for o in harness.output):
            break
        await asyncio.sleep(0.1)
    fix = {
        "sessionId": session_id,
        "tool": "edit",
        "input": {"file_path": "app.py", "old_string": "a - b", "new_string": "a + b"},
    }
    harness.accept_edits = False
    rejected = await harness.request("plangate/executeTool", fix)
    assert rejected["isError"] and "rejected the change to app.py" in rejected["text"]
    assert (harness.workspace / "app.py").read_text().endswith("a - b\n")
    harness.accept_edits = True
    applied = await harness.request("plangate/executeTool", fix)
    assert not applied["isError"] and applied["text"] == "Applied the change to app.py."
    assert (harness.workspace / "app.py").read_text().endswith("a + b\n")
    annotated = [e for e in harness.edits if e.edit.change_annotations]
    for edit in annotated:  # VS Code: the Refactor Preview's heading names the phase
        [annotation] = edit.edit.change_annotations.values()
        assert annotation.label == "Phase 1 · API fix: change app.py"
    summary = await harness.until(session_id, lambda s: s["phases"][0]["status"] == "done")
    assert summary["status"] in ("awaiting phase approval", "completed")


REVISED = "The user asks for changes to the plan"


async def test_revise_lens_sends_the_plan_edits_or_asks_for_a_note(
    harness: Harness, scripted: ScriptedServer
) -> None:
    async def revise(session_id: str, expect: str) -> str:
        """Press Revise… on the plan; the first request to the model that contains `expect`."""
        before = len(scripted.message_requests)
        await harness.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="plangate.approvePhase", arguments=[session_id, 0, "revise"]
            )
        )
        for _ in range(100):  # bounded: 10 s, until the model is asked again
            for sent in scripted.message_requests[before:]:
                if expect in str(sent.body["messages"][-1]):
                    return str(sent.body["messages"][-1])
            await asyncio.sleep(0.1)
        raise AssertionError(f"the model was not sent {expect!r}")

    task = {"agent": "backend-developer", "task": "Fix add() in app.py"}
    first = await harness.request("plangate/proposePlan", task)
    path = uri_path(first["planUri"])
    edited = path.read_text() + "\n- Also reject non-numbers\n"
    harness.open(first["planUri"], edited)
    sent = await revise(first["sessionId"], "The user edited the plan document")
    assert "+- Also reject non-numbers" in sent

    second = await harness.request("plangate/proposePlan", task)
    asked = len(harness.messages)
    await revise(second["sessionId"], REVISED)  # no edits: a message request, then revised
    assert "what should change in the plan?" in harness.messages[asked].message


async def test_a_failed_validation_is_answered_from_its_lens(
    harness: Harness, scripted: ScriptedServer
) -> None:
    session_id, plan_uri = await run_phase_1(harness, scripted, None)  # changes nothing
    summary = await harness.until(
        session_id, lambda s: (s["pending"] or {}).get("kind") == "validation"
    )
    assert summary["pending"]["phase"] == 1 and "accept" in summary["pending"]["choices"]
    harness.open(plan_uri, uri_path(plan_uri).read_text())
    lenses = await harness.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=plan_uri))
    )
    buttons = {lens.command.title: lens.command for lens in lenses if lens.command}
    assert {"Validation failed: Retry", "Accept anyway", "Roll back", "Stop"} <= set(buttons)
    accept = buttons["Accept anyway"]
    await harness.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=accept.command, arguments=accept.arguments)
    )
    summary = await harness.until(session_id, lambda s: s["phases"][0]["status"] == "done")
    assert summary["phases"][0]["testsFailed"] >= 1
