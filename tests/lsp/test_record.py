"""`plangate/sessionRecord`: the approval record written next to the session's log, with who
answered each question in the editor; a bad request is a -32602 naming the field."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.conftest import Harness, run_phase_1


async def test_the_record_is_written_and_says_who_approved(
    harness: Harness, scripted: ScriptedServer
) -> None:
    fix = {"file_path": "app.py", "old_string": "a - b", "new_string": "a + b"}
    read = ToolUse("read", {"file_path": "app.py"}, id="t-read")
    work = ScriptedTurn(tool_calls=[read, ToolUse("edit", fix, id="t-fix")])
    session_id, _ = await run_phase_1(harness, scripted, work)
    await harness.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 2)
    written = await harness.request("plangate/sessionRecord", {"sessionId": session_id})
    path = Path(unquote(urlparse(written["uri"]).path))
    assert path == harness.workspace / ".plangate" / "records" / f"{session_id}.md"
    assert path.read_text() == written["markdown"]
    text = written["markdown"]
    assert "- version 1: approve by " in text and " in the editor at " in text, text[:800]
    assert "### Phase 1: API fix (done)" in text
    assert "- Approval: approve by " in text
    assert "- `app.py`: apply by " in text and "+    return a + b" in text
    assert "- PASS custom: python3 -m unittest -q check_app (1 passed)" in text


async def test_a_record_request_without_a_session_names_the_field(harness: Harness) -> None:
    with pytest.raises(JsonRpcInvalidParams, match="sessionId"):
        await harness.request("plangate/sessionRecord", {})
