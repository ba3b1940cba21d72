"""In the editor, a remote MCP server that asks to sign in: the user is asked in a message,
and the sign-in page opens in their browser (`window/showDocument`, external); the token is
kept outside the workspace."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from lsprotocol import types

from plangate.model.scripted import ScriptedServer
from tests.lsp.conftest import Harness
from tests.mcp.conftest import everything_server, oauth_server  # noqa: F401


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tokens go to a data folder of the test's own (set before the server starts)."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


async def test_signing_in_opens_the_page_in_the_browser(
    data_home: Path,
    oauth_server: str,  # noqa: F811
    harness: Harness,
    scripted: ScriptedServer,
) -> None:
    (harness.workspace / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"secured": {"type": "http", "url": oauth_server}}})
    )
    harness.message_answers = ["Allow once", "Open the sign-in page"]
    proposing = asyncio.create_task(
        harness.request(
            "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add() in app.py"}
        )
    )
    # The user's browser opens the page (the demo server signs anyone in).
    external: list[types.ShowDocumentParams] = []
    for _ in range(300):  # bounded: 30 s
        external = [p for p in harness.client.shown_documents if p.external]
        if external or proposing.done():
            break
        await asyncio.sleep(0.1)
    assert len(external) == 1 and "code_challenge=" in external[0].uri, external
    async with httpx2.AsyncClient(follow_redirects=True, timeout=10) as browser:
        page = await browser.get(external[0].uri)
    assert "You can close this tab" in page.text
    proposed = await asyncio.wait_for(proposing, 60)
    sign_in = [m.message for m in harness.messages if "sign in" in m.message]
    assert sign_in == [
        f"PlanGate: The MCP server 'secured' (http: {oauth_server}) asks you to sign in: "
        "open the page in a browser."
    ], [m.message for m in harness.messages]
    summary: dict[str, Any] = await harness.request(
        "plangate/sessionStatus", {"sessionId": proposed["sessionId"]}
    )
    [server] = summary["mcpServers"]
    assert not server.get("error") and "greet" in server["tools"], server
    kept = list((data_home / "plangate" / "mcp-auth").glob("*.json"))
    token = json.loads(kept[0].read_text())["tokens"]["access_token"]
    for path in (harness.workspace / ".plangate").rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path
