"""In the editor, a plan amendment is the pending question of its phase: a lens on the phase's
heading; nothing is changed until it is answered; approved, the plan document declares the file
and the change goes to review."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.conftest import Harness, run_phase_1

REASON = "util.py holds the same bug."


async def test_an_amendment_is_a_lens_and_nothing_changes_until_it_is_answered(
    harness: Harness, scripted: ScriptedServer
) -> None:
    write = ToolUse("write", {"file_path": "util.py", "content": "X = 1\n"}, id="t-util")
    session_id, plan_uri = await run_phase_1(
        harness, scripted, ScriptedTurn(text=REASON, tool_calls=[write])
    )
    summary = await harness.until(
        session_id, lambda s: (s["pending"] or {}).get("kind") == "amendment"
    )
    assert summary["pending"]["title"] == f"Phase 1 also changes util.py: {REASON}"
    assert not (harness.workspace / "util.py").exists()
    lenses = await harness.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=plan_uri))
    )
    titles = {lens.command.title: lens.range.start.line for lens in lenses or [] if lens.command}
    wanted = {"Amend the plan: approve", "Reject the amendment", "Show the change to the plan"}
    assert wanted <= set(titles), titles
    plan = (harness.workspace / ".plangate" / "plans").rglob("*.md").__next__().read_text()
    assert plan.splitlines()[titles["Amend the plan: approve"]].startswith("## Phase 1: ")
    # The change to the plan, shown as a diff document.
    assert "+- `util.py`" in summary["pending"]["diff"]
    await harness.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="plangate.showPlanChange", arguments=[session_id])
    )
    [shown] = [d for d in harness.client.shown_documents if d.uri.endswith(".change.diff")]
    assert "+- `util.py`" in Path(unquote(urlparse(shown.uri).path)).read_text()

    await harness.request(
        "plangate/approvePhase", {"sessionId": session_id, "phase": 1, "decision": "approve"}
    )
    await harness.until(session_id, lambda _: (harness.workspace / "util.py").exists())
    assert (harness.workspace / "util.py").read_text() == "X = 1\n"
    plan = (harness.workspace / ".plangate" / "plans").rglob("*.md").__next__().read_text()
    assert "- `util.py`" in plan.split("## Phase 2")[0]


async def test_a_stale_approve_does_not_answer_an_amendment(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """A second press of phase 1's "Approve & run" (the phase question is gone; its amendment
    is pending) is refused: the button said which question it answers."""
    write = ToolUse("write", {"file_path": "util.py", "content": "X = 1\n"}, id="t-util")
    session_id, _ = await run_phase_1(harness, scripted, ScriptedTurn(tool_calls=[write]))
    await harness.until(session_id, lambda s: (s["pending"] or {}).get("kind") == "amendment")
    with pytest.raises(JsonRpcException, match="waiting for amendment of phase 1"):
        await harness.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="plangate.approvePhase",
                arguments=[session_id, 1, "approve", "", "phase"],
            )
        )
    assert not (harness.workspace / "util.py").exists()
    summary = await harness.request("plangate/sessionStatus", {"sessionId": session_id})
    assert summary["pending"]["kind"] == "amendment"
