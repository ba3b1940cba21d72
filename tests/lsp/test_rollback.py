"""plangate/rollbackPhase over stdio: a refused rollback is a clear error naming the files and
the session goes on; an allowed one says how to undo it."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from plangate.lsp.errors import ROLLBACK_REFUSED
from plangate.lsp.params import uri_path
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.conftest import Harness, run_phase_1


async def test_a_refused_rollback_is_an_error_naming_the_files_and_the_session_goes_on(
    harness: Harness, scripted: ScriptedServer
) -> None:
    # Phase 1 only makes a file: its validation has nothing to check.
    (harness.workspace / ".plangate" / "config.toml").write_text('validate = ["true"]\n')
    work = ScriptedTurn(tool_calls=[ToolUse("bash", {"command": "echo made > made.txt"}, id="t-b")])
    session_id, _ = await run_phase_1(harness, scripted, work)
    await harness.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 2)
    made = harness.workspace / "made.txt"
    assert made.read_text() == "made\n"

    # The user changed the file the agent's command made: rolling back would lose that.
    made.write_text("made, then edited by the user\n")
    with pytest.raises(JsonRpcException) as error:
        await harness.request("plangate/rollbackPhase", {"sessionId": session_id, "phase": 1})
    assert error.value.code == ROLLBACK_REFUSED, error.value
    assert "made.txt (changed since the agent left it)" in error.value.message
    assert "Nothing was changed" in error.value.message
    assert made.read_text() == "made, then edited by the user\n"
    summary = await harness.request("plangate/sessionStatus", {"sessionId": session_id})
    assert summary["pending"]["phase"] == 2 and summary["phases"][0]["status"] == "done"

    # Once the user put it back, the rollback goes through and says how to undo it.
    made.write_text("made\n")
    summary = await harness.request("plangate/rollbackPhase", {"sessionId": session_id, "phase": 1})
    assert summary["phases"][0]["status"] == "rolled back"
    assert not made.exists()
    # The question about phase 2 is withdrawn: the rolled-back phase is next, to run again.
    pending = await harness.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 1)
    assert pending["pending"]["title"] == "Run phase 1 again: API fix?"
    # The question about phase 2 is taken back for good: not asked again later, stale.
    log = harness.workspace / ".plangate" / "sessions" / session_id / "events.jsonl"
    assert '"type":"withdrawn","data":{"id":"phase:2#1"' in log.read_text()
    plan_uri = pending["planUri"]
    harness.open(plan_uri, uri_path(plan_uri).read_text())
    lenses = await harness.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=plan_uri))
    )
    on_phase_1 = [
        lens.command.title
        for lens in lenses
        if lens.command
        and lens.range.start.line
        == uri_path(plan_uri).read_text().splitlines().index("## Phase 1: API fix")
    ]
    assert on_phase_1 == ["Run again", "Revise…", "Skip", "Reject"], on_phase_1
    kinds = {o["kind"]: o["text"] for o in harness.output}
    assert "made.txt" in kinds["rollback_refused"]
    assert "--git-dir=.plangate/checkpoints --work-tree=. checkout" in kinds["rollback"]
    for phase in (1, 2):  # not run again, and the next one skipped
        await harness.until(session_id, lambda s, n=phase: (s["pending"] or {}).get("phase") == n)
        await harness.request(
            "plangate/approvePhase", {"sessionId": session_id, "phase": phase, "decision": "skip"}
        )
    done = await harness.until(session_id, lambda s: s["status"] == "completed")
    assert [p["status"] for p in done["phases"]] == ["rolled back", "skipped"]


async def test_the_lens_asks_first_naming_the_files(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """The Roll back lens (a workspace/executeCommand) asks before it undoes anything, naming
    the files; Cancel changes nothing. plangate/rollbackFiles lists the same files."""
    (harness.workspace / ".plangate" / "config.toml").write_text('validate = ["true"]\n')
    work = ScriptedTurn(tool_calls=[ToolUse("bash", {"command": "echo made > made.txt"}, id="t-b")])
    session_id, _ = await run_phase_1(harness, scripted, work)
    await harness.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 2)
    listed = await harness.request("plangate/rollbackFiles", {"sessionId": session_id, "phase": 1})
    assert listed == {"phase": 1, "files": ["made.txt"]}

    harness.message_answers = ["Cancel", "Roll Back"]
    before = len(harness.messages)
    lens = types.ExecuteCommandParams(command="plangate.rollbackPhase", arguments=[session_id, 1])
    await harness.client.workspace_execute_command_async(lens)
    assert [m.message for m in harness.messages[before:]] == [
        "PlanGate: roll back phase 1? It undoes the agent's changes to made.txt. Changes anyone "
        "else made are kept."
    ]
    assert (harness.workspace / "made.txt").exists()  # cancelled: nothing changed
    await harness.client.workspace_execute_command_async(lens)
    assert not (harness.workspace / "made.txt").exists()
    summary = await harness.request("plangate/sessionStatus", {"sessionId": session_id})
    assert summary["phases"][0]["status"] == "rolled back"
    # From the lens as from the request: the rolled-back phase is asked about again.
    await harness.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 1, timeout=20)
