"""kill -9 `plangate serve` while a phase's check runs: the check and its background jobs die
with the server, and the next server, asked for its sessions, tells the editor what was
interrupted (an output line and a warning) and runs the check again.

The client is a bare JSON-RPC one (`tests/lsp/bare.py`): this test kills one server and
starts another.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from plangate.model.scripted import ScriptedServer
from plangate.workflow import prompts
from tests.lsp.bare import Editor
from tests.orphans import GONE, START, kill_all, named, running, sleeper, wait_for
from tests.workflow.scenario import Model, make_workspace

QUICK_CHECK = "python3 -m unittest -q check_app"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_killed_server_takes_its_check_along_and_the_next_one_reports_it(
    tmp_path: Path,
) -> None:
    workspace = make_workspace(tmp_path / "ws").resolve()
    token = f"orphan-{uuid.uuid4().hex[:10]}"
    check = sleeper(token)
    config = workspace / ".plangate" / "config.toml"
    config.write_text(f"validate = [{check!r}]\n")
    log = tmp_path / "server.stderr"
    with ScriptedServer(Model()) as scripted:
        first = Editor(workspace, scripted.base_url, log)
        try:
            proposed = first.request(
                "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add()"}
            )
            session_id = proposed["sessionId"]
            first.request(
                "plangate/approvePhase",
                {"sessionId": session_id, "phase": 0, "decision": "approve"},
            )
            first.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 1)
            first.request(
                "plangate/approvePhase",
                {"sessionId": session_id, "phase": 1, "decision": "approve"},
            )
            started = wait_for(
                lambda: running(token) or first.process.poll() is not None,
                START,
            )
            started = started and first.process.poll() is None
            assert started, log.read_text()[-3000:]
            assert len(named(f"{token}-job", first=True)) == 2
            first.process.kill()
            assert first.process.wait(timeout=GONE) < 0
            assert wait_for(lambda: not named(token), GONE), f"still running: {named(token)}"
        finally:
            first.close()
            kill_all(token)

        config.write_text(f"validate = [{QUICK_CHECK!r}]\n")
        second = Editor(workspace, scripted.base_url, log)
        try:
            listed = second.request("plangate/listSessions", {})
            assert [s["sessionId"] for s in listed["sessions"]] == [session_id]
            summary = second.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 2)
            assert summary["phases"][0]["status"] == "done"
            message = prompts.check_interrupted(1, 1, check)
            output = second.kinds("plangate/output")
            assert {"sessionId": session_id, "kind": "interrupted", "text": message} in output
            assert {"type": 2, "message": f"PlanGate: {message}"} in second.kinds(
                "window/showMessage"
            )
        finally:
            second.close()
