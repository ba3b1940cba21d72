"""Twenty sessions on one workspace at once, through the real server over stdio: every one
completes, and every log is whole. The client is bench/sessions.py's (it answers the approvals
and applies each workspace edit to the files as an editor does); how fast the server answers
meanwhile is the benchmark's business, not a test's."""

from __future__ import annotations

import json
from pathlib import Path

from bench.sessions import SESSIONS, ConcurrentModel, drive, make_workspace, module

from plangate.layout import Layout
from plangate.model.scripted import ScriptedServer
from plangate.workflow.log import EventLog
from plangate.workflow.state import Status, replay


async def test_twenty_sessions_on_one_workspace_all_complete(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", SESSIONS)
    with ScriptedServer(ConcurrentModel()) as scripted:
        run = await drive(workspace, scripted.base_url, SESSIONS, timeout=120)
        assert scripted.violations == []

    assert run.failures == {}
    assert sorted(run.ids) == list(range(SESSIONS))
    assert len(set(run.ids.values())) == SESSIONS
    assert run.edit_failures == []
    assert run.edits_applied == 2 * SESSIONS
    assert {s["status"] for s in run.last.values()} == {"completed"}
    # Three approvals per session: its plan, then the start of each of its two phases.
    assert run.approvals == 3 * SESSIONS

    for index, session_id in run.ids.items():
        path = Layout(workspace).events(session_id)
        raw = path.read_bytes()
        assert raw.endswith(b"\n"), f"{session_id}: torn last line"
        lines = raw.splitlines()
        seqs = [json.loads(line)["seq"] for line in lines]
        assert seqs == list(range(1, len(lines) + 1)), f"{session_id}: events out of order"
        events = EventLog(path).read()
        assert len(events) == len(lines)
        assert not EventLog(path).rejected.exists()
        state = replay(events)
        assert state.status is Status.COMPLETED, (session_id, state.status, state.reason)
        assert state.task.startswith(f"concurrent task {index}:")
        # Each session's own edit, applied by the client, and nobody else's.
        assert (workspace / module(index)).read_text() == (
            f"def value_{index}():\n    return {index}\n"
        )
        assert (workspace / f"docs/mod_{index}.md").read_text() == (
            f"# value_{index}\n\nReturns {index}.\n"
        )
