"""kill -9 `plangate serve` at each step of an edit's life (previewed, applied in the buffer,
saved, answered), then start another server as an editor would: the change ends up in the file
once, and is previewed again only if the user had not applied it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import converters, types

from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.bare import NO_ANSWER, PREVIEWS, TIMEOUT, Editor, yes
from tests.lsp.editor import Buffer, Buffers
from tests.orphans import GONE
from tests.workflow.scenario import APP, Model, happy_path, make_workspace

INSERT = {
    "file_path": "app.py",
    "old_string": "a - b\n",
    "new_string": "a + b\n\n\ndef sub(a, b):\n    return a - b\n",
}
FIXED = APP.replace("a - b\n", INSERT["new_string"])
CONVERTER = converters.get_converter()


def _model() -> Model:
    steps = happy_path()
    steps[2] = ScriptedTurn(
        tool_calls=[
            ToolUse("read", {"file_path": "app.py"}, id="t-read2"),
            ToolUse("edit", INSERT, id="t-edit"),
        ]
    )
    del steps[3]  # no command: the phase is the edit alone
    return Model(steps)


def _opened(editor: Editor, uri: str, buffer: Buffer) -> None:
    editor.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": "python",
                "version": buffer.version,
                "text": buffer.text,
            }
        },
    )


@pytest.mark.parametrize("stage", ["previewed", "applied", "saved", "answered"])
def test_kill_9_at_each_step_of_an_edits_life(tmp_path: Path, stage: str) -> None:
    workspace = make_workspace(tmp_path / "ws").resolve()
    uri = (workspace / "app.py").as_uri()
    buffers = Buffers({uri: Buffer(version=1, text=APP)})
    first_previews: list[dict[str, Any]] = []
    second_previews: list[dict[str, Any]] = []
    reached = threading.Event()
    servers: list[Editor] = []

    def first_answer(message: dict[str, Any]) -> Any:
        """The user gets as far as `stage` with the preview, then the server dies."""
        if message["method"] != "workspace/applyEdit":
            return yes(message)
        first_previews.append(message)
        if stage != "previewed":
            edit = CONVERTER.structure(message["params"]["edit"], types.WorkspaceEdit)
            buffers.apply(edit, save=stage != "applied")
            buffer = buffers.buffers[uri]
            servers[0].notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": buffer.version},
                    "contentChanges": [{"text": buffer.text}],
                },
            )
        reached.set()
        return {"applied": True} if stage == "answered" else NO_ANSWER

    def second_answer(message: dict[str, Any]) -> Any:
        if message["method"] != "workspace/applyEdit":
            return yes(message)
        second_previews.append(message)
        edit = CONVERTER.structure(message["params"]["edit"], types.WorkspaceEdit)
        buffers.apply(edit)
        return {"applied": True}

    log = tmp_path / "server.stderr"
    with ScriptedServer(_model()) as scripted:
        first = Editor(
            workspace, scripted.base_url, log, answer=first_answer, capabilities=PREVIEWS
        )
        servers.append(first)
        try:
            _opened(first, uri, buffers.buffers[uri])
            session_id = first.start_phase_1("Fix add()")
            assert reached.wait(TIMEOUT), log.read_text()[-3000:]
            first.process.kill()
            assert first.process.wait(timeout=GONE) < 0
        finally:
            first.close()

        second = Editor(
            workspace, scripted.base_url, log, answer=second_answer, capabilities=PREVIEWS
        )
        try:
            _opened(second, uri, buffers.buffers[uri])  # the editor's buffer, as it is now
            listed = second.request("plangate/listSessions", {})
            assert [s["sessionId"] for s in listed["sessions"]] == [session_id]
            summary = second.until(session_id, lambda s: s["phases"][0]["status"] == "done")
            assert summary["status"] in ("awaiting phase approval", "running", "documenting")
        finally:
            second.close()
    assert len(first_previews) == 1
    assert len(second_previews) == (1 if stage == "previewed" else 0)
    assert (workspace / "app.py").read_text() == FIXED
    assert buffers.buffers[uri].text == FIXED
