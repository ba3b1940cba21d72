"""`plangate/reviewEdit`: a client that declares it reviews each change as a diff, hunk by hunk;
the server writes exactly the hunks accepted and tells the model which were not."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from plangate.lsp.params import plain
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.conftest import Harness, initialize, listen, run_phase_1
from tests.workflow.scenario import tool_results

ORIGINAL = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\n"
PROPOSED = "a = 10\nb = 2\nc = 3\nd = 4\ne = 5\nf = 60\n"
WAIT = 30  # seconds for anything the test waits on

Answerer = Callable[[dict[str, Any]], Any]


class Reviews(Harness):
    """The harness, plus the `plangate/reviewEdit` requests seen and how to answer them."""

    def __init__(self, client: LanguageClient, workspace: Path) -> None:
        super().__init__(client, workspace)
        self.reviews: list[dict[str, Any]] = []
        self.answer: Answerer = lambda _params: {"decision": "accept"}
        self.cancelled = asyncio.Event()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "plangate.cli", "serve"])
)
async def client(lsp_client: LanguageClient, scripted: ScriptedServer, workspace: Path) -> Any:
    seen = Reviews(lsp_client, workspace)
    lsp_client.harness = seen  # type: ignore[attr-defined]

    listen(lsp_client, seen)

    @lsp_client.feature("plangate/reviewEdit")
    async def on_review(params: Any) -> Any:
        seen.reviews.append(plain(params))
        try:
            answer = seen.answer(plain(params))
            return await answer if asyncio.iscoroutine(answer) else answer
        except asyncio.CancelledError:
            seen.cancelled.set()
            raise

    capabilities = client_capabilities("visual-studio-code")
    capabilities.experimental = {"plangate": {"reviewEdit": True, "sessionChanged": True}}
    await initialize(lsp_client, capabilities, workspace, scripted)
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def reviews(client: LanguageClient) -> Reviews:
    return client.harness  # type: ignore[attr-defined,no-any-return]


async def _session(reviews: Reviews, scripted: ScriptedServer) -> str:
    """A session whose phase 1 rewrites calc.py (two hunks apart); plan and phase approved."""
    (reviews.workspace / "calc.py").write_text(ORIGINAL)
    turns = [
        ScriptedTurn(tool_calls=[ToolUse("read", {"file_path": "calc.py"}, id="t-read")]),
        ScriptedTurn(
            tool_calls=[
                ToolUse("write", {"file_path": "calc.py", "content": PROPOSED}, id="t-write")
            ]
        ),
    ]
    session_id, _ = await run_phase_1(reviews, scripted, turns, task="Scale calc.py")
    return session_id


async def _write_result(reviews: Reviews, scripted: ScriptedServer, session_id: str) -> str:
    """What the model was told about its write of calc.py."""

    def told() -> list[str]:
        return [
            text
            for request in scripted.message_requests
            for text in tool_results(request.body)
            if "calc.py" in text and "Read" not in text[:4]
        ]

    await reviews.until(session_id, lambda _: bool(told()), timeout=WAIT)
    return told()[-1]


async def test_one_hunk_accepted_one_rejected(reviews: Reviews, scripted: ScriptedServer) -> None:
    reviews.answer = lambda _p: {"decision": "accept", "hunks": [1], "reason": "keep a as 1"}
    session_id = await _session(reviews, scripted)
    text = await _write_result(reviews, scripted, session_id)
    assert (reviews.workspace / "calc.py").read_text() == ORIGINAL.replace("f = 6", "f = 60")
    assert "applied 1 of the 2 hunks of the change to calc.py" in text, text
    assert "(lines 1-1)" in text and text.endswith("keep a as 1")
    [review] = reviews.reviews
    assert review["title"] == "Phase 1 · API fix: change calc.py"
    assert review["path"] == "calc.py" and review["kind"] == "modify"
    assert review["uri"] == (reviews.workspace / "calc.py").as_uri()
    assert (review["original"], review["proposed"]) == (ORIGINAL, PROPOSED)
    assert [
        (h["originalStart"], h["proposedStart"], h["proposedLines"]) for h in review["hunks"]
    ] == [
        (0, 0, 1),
        (5, 5, 1),
    ]
    assert reviews.edits == []  # no workspace/applyEdit: the server wrote the file
    # It shows sessionChanged itself: no messages telling the same.
    assert not any("waits for your approval" in m.message for m in reviews.client.messages)
    # The session's timeline says it in words, for the activity view.
    timeline = await reviews.request("plangate/sessionTimeline", {"sessionId": session_id})
    entries = [(e["kind"], e["text"], e["ok"]) for e in timeline["entries"]]
    assert any(
        kind == "answer"
        and text.startswith("apply hunk 2: Apply the change to calc.py")
        and text.endswith("(keep a as 1)")
        and ok
        for kind, text, ok in entries
    ), entries
    assert any(
        kind == "tool" and text.startswith("write calc.py: The user applied 1 of the 2 hunks")
        for kind, text, _ in entries
    ), entries


async def test_accepted_whole(reviews: Reviews, scripted: ScriptedServer) -> None:
    session_id = await _session(reviews, scripted)
    text = await _write_result(reviews, scripted, session_id)
    assert (reviews.workspace / "calc.py").read_text() == PROPOSED, text
    assert text.startswith("Applied the change to calc.py")


@pytest.mark.parametrize(
    ("answer", "told"),
    [
        (
            {"decision": "reject", "reason": "not now"},
            "The user rejected the change to calc.py. not now",
        ),
        ({"decision": "accept", "hunks": []}, "The user rejected the change to calc.py."),
        ({"decision": "maybe"}, "The editor's answer was not understood"),
        ({"decision": "accept", "hunks": [0, 7]}, "named hunks that are not there: [7]"),
    ],
)
async def test_rejected_or_not_understood(
    reviews: Reviews, scripted: ScriptedServer, answer: dict[str, Any], told: str
) -> None:
    reviews.answer = lambda _p: answer
    session_id = await _session(reviews, scripted)
    text = await _write_result(reviews, scripted, session_id)
    assert (reviews.workspace / "calc.py").read_text() == ORIGINAL
    assert told in text, text


async def test_cancelling_the_session_closes_the_review(
    reviews: Reviews, scripted: ScriptedServer
) -> None:
    never = asyncio.Event()

    async def wait_forever(_params: dict[str, Any]) -> Any:
        await asyncio.wait_for(never.wait(), WAIT * 2)

    reviews.answer = wait_forever
    session_id = await _session(reviews, scripted)
    await reviews.until(session_id, lambda _: bool(reviews.reviews), timeout=WAIT)
    await reviews.request("plangate/cancel", {"sessionId": session_id})
    await asyncio.wait_for(reviews.cancelled.wait(), WAIT)
    assert (reviews.workspace / "calc.py").read_text() == ORIGINAL


async def test_ten_edits_in_a_row_with_the_file_open(
    reviews: Reviews, scripted: ScriptedServer
) -> None:
    """Each review follows the server's write of the last one at once; the open buffer (which
    this client never reloads) is no reason to hold one back: the file on disk is what counts."""
    lines = [f"v{n} = {n}\n" for n in range(10)]
    path = reviews.workspace / "calc.py"
    path.write_text("".join(lines))
    reviews.open(path.as_uri(), "".join(lines), "python")
    edits = [
        ToolUse(
            "edit",
            {
                "file_path": "calc.py",
                "old_string": f"v{n} = {n}\n",
                "new_string": f"v{n} = {n * 10 + 1}\n",
            },
            id=f"t-edit{n}",
        )
        for n in range(10)
    ]
    turns = [
        ScriptedTurn(tool_calls=[ToolUse("read", {"file_path": "calc.py"}, id="t-read")]),
        *(ScriptedTurn(tool_calls=[edit]) for edit in edits),
    ]
    session_id, _ = await run_phase_1(reviews, scripted, turns, task="Scale calc.py")
    final = "".join(f"v{n} = {n * 10 + 1}\n" for n in range(10))
    await reviews.until(session_id, lambda _: path.read_text() == final, timeout=WAIT * 2)
    assert len(reviews.reviews) == 10
    assert [r["path"] for r in reviews.reviews] == ["calc.py"] * 10
