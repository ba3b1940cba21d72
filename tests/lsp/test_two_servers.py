"""Two `plangate serve` processes (two editor windows) on one workspace, a session each, at
the same time: both complete, each log is whole, the checkpoints store is shared safely."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from lsprotocol import converters, types

from plangate.model.scripted import ScriptedServer
from plangate.workflow.log import EventLog
from plangate.workflow.session import Session
from plangate.workflow.state import Status, replay
from tests.lsp.bare import TIMEOUT, Editor, yes
from tests.lsp.editor import Buffers
from tests.workflow.scenario import Model, make_workspace

CONVERTER = converters.get_converter()


def _drive(editor: Editor, task: str, results: dict[str, Any]) -> None:
    """Start a session and approve everything it asks until it ends (bounded in time)."""
    session_id = editor.request(
        "plangate/proposePlan", {"agent": "backend-developer", "task": task}
    )["sessionId"]
    results[task] = session_id
    deadline = time.monotonic() + 2 * TIMEOUT
    while time.monotonic() < deadline:
        summary = editor.request("plangate/sessionStatus", {"sessionId": session_id})
        if summary["status"] in ("completed", "failed", "cancelled", "paused"):
            results[task] = (session_id, summary["status"], summary["reason"])
            return
        pending = summary["pending"]
        if pending is not None:
            choice = "accept" if pending["kind"] == "validation" else pending["choices"][0]
            editor.request(
                "plangate/approvePhase",
                {"sessionId": session_id, "phase": pending["phase"], "decision": choice},
            )
        time.sleep(0.1)
    results[task] = (session_id, "timed out", "")


def test_two_servers_on_one_workspace_both_complete(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws").resolve()
    disk = Buffers()  # no open buffers: each preview is applied to the file and saved
    lock = threading.Lock()

    def apply(message: dict[str, Any]) -> Any:
        if message["method"] != "workspace/applyEdit":
            return yes(message)
        edit = CONVERTER.structure(message["params"]["edit"], types.WorkspaceEdit)
        with lock:
            disk.apply(edit)
        return {"applied": True}

    results: dict[str, Any] = {}
    log = tmp_path / "server.stderr"
    with ScriptedServer(Model()) as scripted:
        editors = [Editor(workspace, scripted.base_url, log, answer=apply) for _ in range(2)]
        try:
            threads = [
                threading.Thread(target=_drive, args=(editor, f"Fix add() #{n}", results))
                for n, editor in enumerate(editors)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=3 * TIMEOUT)
        finally:
            for editor in editors:
                editor.close()
    outcomes = sorted(results.values())
    assert [(status, reason) for _, status, reason in outcomes] == [
        ("completed", "every phase is done")
    ] * 2, log.read_text()[-3000:]
    for session_id, _, _ in outcomes:
        events = EventLog(Session.log_path(workspace, session_id)).read()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert replay(events).status is Status.COMPLETED
    assert (workspace / "app.py").read_text().endswith("a + b\n")
