"""A paused session resumes from the editor: a request, the plan's lens and code action, a
command; with the settings as they are now (a fixed key counts)."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from plangate.lsp.errors import NOT_PAUSED
from plangate.lsp.params import uri_path
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.conftest import Harness
from tests.workflow.scenario import plan_input

FIX = {"file_path": "app.py", "old_string": "a - b", "new_string": "a + b"}


async def test_a_session_paused_by_a_bad_key_resumes_from_the_plan_once_it_is_fixed(
    harness: Harness, scripted: ScriptedServer
) -> None:
    scripted.script.steps = [  # type: ignore[union-attr]
        ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input(), id="t-plan")]),
        ScriptedTurn(
            tool_calls=[
                ToolUse("read", {"file_path": "app.py"}, id="t-read"),
                ToolUse("edit", FIX, id="t-edit"),
            ]
        ),
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "done"}, id="t-done")]),
    ]
    proposed = await harness.request(
        "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add() in app.py"}
    )
    session_id, plan_uri = proposed["sessionId"], proposed["planUri"]
    with pytest.raises(JsonRpcException, match="is not paused") as not_paused:
        await harness.request("plangate/resume", {"sessionId": session_id})
    assert not_paused.value.code == NOT_PAUSED
    # The key is revoked while the user reads the plan: phase 1's first turn gets a 401.
    scripted.api_key, scripted.rejections_expected = "sk-ant-another-key", True
    await harness.request(
        "plangate/approvePhase", {"sessionId": session_id, "phase": 0, "decision": "approve"}
    )
    await harness.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 1)
    await harness.request(
        "plangate/approvePhase", {"sessionId": session_id, "phase": 1, "decision": "approve"}
    )
    paused = await harness.until(session_id, lambda s: s["status"] == "paused")
    assert "401" in paused["reason"] or "key" in paused["reason"].lower(), paused["reason"]

    harness.open(plan_uri, uri_path(plan_uri).read_text())
    lenses = await harness.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=plan_uri))
    )
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert "Resume" in titles and any(t.startswith("PlanGate: paused (") for t in titles)
    anywhere = types.Range(
        start=types.Position(line=5, character=0), end=types.Position(line=5, character=0)
    )
    actions = await harness.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=plan_uri),
            range=anywhere,
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    [(title, command)] = [_code_action(a) for a in actions or []]
    assert title == "PlanGate: Resume" and command["command"] == "plangate.resume"

    scripted.api_key = None  # the key is fixed
    resumed = await harness.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command["command"], arguments=command["arguments"])
    )
    assert resumed["status"] != "paused"
    done = await harness.until(session_id, lambda s: s["phases"][0]["status"] == "done")
    assert done["status"] in ("awaiting phase approval", "completed")
    assert (harness.workspace / "app.py").read_text().endswith("a + b\n")


def _code_action(action: types.Command | types.CodeAction) -> tuple[str, dict[str, Any]]:
    """A code action's title and command. lsprotocol's client side reads any code action
    that has a command as a bare Command, its command object turned into a string; editors
    tell them apart by whether `command` is a string, as the server means them."""
    if isinstance(action, types.CodeAction):
        assert action.command is not None
        command = action.command
        return action.title, {"command": command.command, "arguments": command.arguments}
    return action.title, ast.literal_eval(action.command)
