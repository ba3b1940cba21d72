"""Previews against the editor's buffers: never sent on text they were not computed on, never
sent again for a change the buffer already holds. The test client's editor applies every
preview it gets to its own buffers, as an editor does, so a stale one would show."""

from __future__ import annotations

from typing import Any

from plangate.lsp.params import uri_path
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.conftest import Harness, run_phase_1
from tests.workflow.scenario import APP, tool_results

FIX = {"file_path": "app.py", "old_string": "a - b\n", "new_string": "a + b\n\n\ndef sub(a, b):\n"}
FIXED = APP.replace("a - b\n", FIX["new_string"])


async def _edit_result(harness: Harness, scripted: ScriptedServer) -> str:
    """Run phase 1 with the agent's one edit of app.py; the result the model got for it."""
    work = ScriptedTurn(
        tool_calls=[
            ToolUse("read", {"file_path": "app.py"}, id="t-read"),
            ToolUse("edit", FIX, id="t-edit"),
        ]
    )
    session_id, _ = await run_phase_1(harness, scripted, work)

    def seen(summary: dict[str, Any]) -> bool:
        return any(
            "to app.py" in t for r in scripted.message_requests for t in tool_results(r.body)
        )

    await harness.until(session_id, lambda _: seen(_))
    [text] = [
        t for r in scripted.message_requests[-1:] for t in tool_results(r.body) if "to app.py" in t
    ]
    return text


def _app_edits(harness: Harness) -> list[Any]:
    return [e for e in harness.edits if "app.py" in str(e.edit)]


async def test_unsaved_changes_in_the_buffer_stop_the_preview(
    harness: Harness, scripted: ScriptedServer
) -> None:
    uri = (harness.workspace / "app.py").as_uri()
    harness.open(uri, APP, "python")
    typed = "# the user's note\n" + APP  # unsaved: the file on disk is still APP
    harness.type(uri, typed)
    text = await _edit_result(harness, scripted)
    assert "app.py has changes in the editor that the proposal was not made on" in text
    assert "Read the file again" in text
    assert _app_edits(harness) == []
    assert harness.editor.buffers[uri].text == typed
    assert (harness.workspace / "app.py").read_text() == APP


async def test_a_buffer_that_holds_the_change_gets_no_second_preview(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """The user applied the preview and PlanGate stopped before the answer: on the way back
    the buffer has the change (unsaved). It is written once, not previewed again."""
    uri = (harness.workspace / "app.py").as_uri()
    harness.open(uri, FIXED, "python")
    text = await _edit_result(harness, scripted)
    assert text == "Applied the change to app.py."
    assert _app_edits(harness) == []
    assert (harness.workspace / "app.py").read_text() == FIXED
    assert harness.editor.buffers[uri].text.count("def sub") == 1


async def test_a_preview_is_applied_by_the_editor_exactly(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """The file holds what the editor made of the preview (the server writes nothing more); an
    editor without previews gets no buffer edit at all: the server writes the file after the
    prompt, one writer, and the editor reloads it."""
    uri = (harness.workspace / "app.py").as_uri()
    harness.open(uri, APP, "python")
    text = await _edit_result(harness, scripted)
    assert text == "Applied the change to app.py."
    assert (harness.workspace / "app.py").read_text() == FIXED
    assert harness.refused == []
    if harness.previews:
        assert len(_app_edits(harness)) == 1
        assert harness.editor.buffers[uri].text == FIXED
    else:
        assert _app_edits(harness) == []
        assert any("Apply the change to app.py" in m.message for m in harness.messages)


async def test_a_preview_applied_with_some_edits_ticked(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """VS Code's Refactor Preview applies only the edits left ticked and answers applied: the
    model is told which hunks the file now holds, and the server writes nothing more."""
    original = "a = 1\nb = 2\nc = 3\nd = 4\n"
    (harness.workspace / "calc.py").write_text(original)
    work = ScriptedTurn(
        tool_calls=[
            ToolUse("read", {"file_path": "calc.py"}, id="t-read"),
            ToolUse(
                "write",
                {"file_path": "calc.py", "content": "a = 10\nb = 2\nc = 3\nd = 40\n"},
                id="t-write",
            ),
        ]
    )
    harness.ticked = {1}
    session_id, _ = await run_phase_1(harness, scripted, work)

    def told() -> list[str]:
        return [
            t
            for r in scripted.message_requests
            for t in tool_results(r.body)
            if "hunks of the change to calc.py" in t
        ]

    if not harness.previews:
        # A prompt answers for the whole change: nothing to tick, the server writes it all.
        final = "a = 10\nb = 2\nc = 3\nd = 40\n"
        await harness.until(
            session_id, lambda _: (harness.workspace / "calc.py").read_text() == final
        )
        assert harness.edits == []
        return
    await harness.until(session_id, lambda _: bool(told()))
    assert "applied 1 of the 2 hunks" in told()[-1] and "(lines 1-1)" in told()[-1]
    assert (harness.workspace / "calc.py").read_text() == "a = 1\nb = 2\nc = 3\nd = 40\n"


async def test_a_file_opened_to_apply_a_preview_and_kept_open_costs_no_wait(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """An editor that opens a file to apply a preview and keeps it open (eglot) never sends the
    didClose VS Code sends: the next preview of the file comes at once, without a version the
    buffer might not have any more, and applies."""
    harness.open_to_apply = True
    original = "a = 1\nb = 2\n"
    (harness.workspace / "calc.py").write_text(original)
    session_id = await _type_calc(harness, scripted)
    final = TYPED
    await harness.until(session_id, lambda _: (harness.workspace / "calc.py").read_text() == final)
    if not harness.previews:
        assert harness.edits == []  # prompts: the server wrote both, no buffer edit to wait on
        return
    calc = [
        (t, e)
        for t, e in zip(harness.edit_times, harness.edits, strict=True)
        if "calc.py" in str(e.edit)
    ]
    assert len(calc) == 2 and harness.refused == []
    # The old server waited 2 s for a didClose that never came.
    assert calc[1][0] - calc[0][0] < 1.5, calc[1][0] - calc[0][0]
    [second] = [c for c in calc[1][1].edit.document_changes or [] if hasattr(c, "text_document")]
    assert second.text_document.version is None


async def test_a_client_without_session_notifications_is_told_by_messages(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """This client does not declare experimental.plangate.sessionChanged: the moments that
    need the user reach it as window/showMessage, each once."""
    session_id, plan_uri = await run_phase_1(harness, scripted, None)
    # Phase 1 leaves app.py as it was: its check fails, and the user has to decide.
    await harness.until(session_id, lambda s: (s["pending"] or {}).get("kind") == "validation")
    told = [m.message for m in harness.client.messages]
    where = f"(in {uri_path(plan_uri)})"
    assert told == [
        f"PlanGate: the plan for 'Fix add() in app.py' is ready: approve, revise or reject it "
        f"from the plan document {where}.",
        f"PlanGate: phase 1 of 'Fix add() in app.py' waits for your approval {where}.",
        "PlanGate: Phase 1 still fails validation after 3 attempts. Decide from the plan "
        f"document {where}.",
    ], told


async def test_two_changes_in_a_row_to_an_open_file(
    harness: Harness, scripted: ScriptedServer
) -> None:
    """The file is open in the editor; two changes in a row. With prompts the server writes the
    file and this editor's buffer is not reloaded (it is behind, not edited): the second change
    is still shown and written; with previews the buffer follows."""
    original = "a = 1\nb = 2\n"
    path = harness.workspace / "calc.py"
    path.write_text(original)
    harness.open(path.as_uri(), original, "python")
    session_id = await _type_calc(harness, scripted)
    final = TYPED
    await harness.until(session_id, lambda _: path.read_text() == final)
    results = [t for r in scripted.message_requests for t in tool_results(r.body) if "calc.py" in t]
    assert not any("has changes in the editor" in t for t in results), results
    assert harness.refused == []


TYPED = "a: int = 1\nb: int = 2\n"


async def _type_calc(harness: Harness, scripted: ScriptedServer) -> str:
    """A session whose phase 1 reads calc.py and changes it twice in a row (to TYPED)."""
    edits = [
        ToolUse(
            "edit",
            {"file_path": "calc.py", "old_string": f"{x} = ", "new_string": f"{x}: int = "},
            id=f"t-{x}",
        )
        for x in ("a", "b")
    ]
    turns = [
        ScriptedTurn(tool_calls=[ToolUse("read", {"file_path": "calc.py"}, id="t-read")]),
        *(ScriptedTurn(tool_calls=[edit]) for edit in edits),
    ]
    session_id, _ = await run_phase_1(harness, scripted, turns, task="Type calc.py")
    return session_id
