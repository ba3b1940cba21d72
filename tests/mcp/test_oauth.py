"""Signing in to an OAuth-protected MCP server: the TypeScript SDK's own example server and
its demo authorization server (discovery, dynamic registration, PKCE, a browser's redirect
to PlanGate's loopback listener), tokens kept outside the workspace and used again."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import httpx2 as httpx
import pytest

from plangate.agents import find_agent
from plangate.diagnostics import SourcePos
from plangate.mcp.config import ServerSpec
from plangate.mcp.connection import Connection, McpError
from plangate.mcp.oauth import OAuthSettings, auth_folder, sign_out, signed_in, token_file
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import Answer, Question, ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import Status
from tests.workflow.scenario import Model, happy_path, make_workspace, provider


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tokens go to a data folder of the test's own."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def spec(url: str, oauth: OAuthSettings | None = None) -> ServerSpec:
    where = SourcePos(file=Path("opencode.json"), line=1)
    if oauth is None:
        return ServerSpec("secured", "http", where, url=url)
    return ServerSpec("secured", "http", where, url=url, oauth=oauth)


class Browser:
    """The user: opens the sign-in page, which (the demo server signs anyone in) redirects
    to the loopback listener with the code."""

    def __init__(self, go: bool = True, forged_first: bool = False) -> None:
        self.go = go
        self.forged_first = forged_first
        self.opened: list[str] = []

    async def __call__(self, url: str) -> bool:
        self.opened.append(url)
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
            if self.forged_first:  # another page aims at the listener first: it is turned away
                port = httpx.URL(httpx.URL(url).params["redirect_uri"]).port
                forged = await browser.get(f"http://127.0.0.1:{port}/callback?code=x&state=y")
                assert forged.status_code == 400, forged.text
            if self.go:
                page = await browser.get(url)
                assert "You can close this tab" in page.text
        return self.go


def test_signing_in_once_and_using_the_kept_tokens(oauth_server: str, tmp_path: Path) -> None:
    workspace = tmp_path / "work"
    workspace.mkdir()

    async def scenario() -> None:
        browser = Browser(forged_first=True)
        connection = Connection(spec(oauth_server), workspace, sign_in=browser)
        try:
            tools = {t.name for t in await connection.start()}
            assert "greet" in tools
            assert "Hello, Ada!" in (await connection.call("greet", {"name": "Ada"})).text
        finally:
            await connection.stop()
        assert len(browser.opened) == 1
        sent = httpx.URL(browser.opened[0]).params
        assert sent["code_challenge_method"] == "S256"
        assert sent["redirect_uri"].startswith("http://127.0.0.1:")

        # A second session: the kept token is used, nobody is asked to sign in again.
        again = Browser()
        connection = Connection(spec(oauth_server), workspace, sign_in=again)
        try:
            assert "greet" in {t.name for t in await connection.start()}
        finally:
            await connection.stop()
        assert again.opened == []

    asyncio.run(scenario())
    kept = token_file(oauth_server)
    assert kept.is_relative_to(auth_folder()) and signed_in(oauth_server)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert not any(workspace.rglob("*")), "nothing about signing in is written in the workspace"
    assert sign_out(oauth_server) and not signed_in(oauth_server)


def test_declining_to_sign_in_is_a_clear_error_asked_once(
    oauth_server: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        browser = Browser(go=False)
        connection = Connection(spec(oauth_server), tmp_path, sign_in=browser)
        with pytest.raises(McpError, match="signing in to 'secured' was declined"):
            await connection.start()
        assert len(browser.opened) == 1, "a declined sign-in is not retried"

    asyncio.run(scenario())


def test_oauth_turned_off_is_not_signed_in(oauth_server: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        browser = Browser()
        off = ServerSpec(
            "secured", "http", SourcePos(file=Path("x"), line=1), url=oauth_server, oauth=None
        )
        connection = Connection(off, tmp_path, sign_in=browser)
        with pytest.raises(McpError, match="HTTP 401: the server asks to sign in, and signing"):
            await connection.start()
        assert browser.opened == []

    asyncio.run(scenario())


class SigningIn(ScriptedApprovals):
    """Scripted answers; a sign-in question is answered by going to the page."""

    async def ask(self, question: Question) -> Answer:
        if question.kind == "sign-in" and question.url:
            self.asked.append(question)
            return Answer(choice="open" if await Browser()(question.url) else "cancel")
        return await super().ask(question)


def test_a_session_signs_in_and_keeps_the_token_out_of_its_files(
    oauth_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    workspace = make_workspace(tmp_path / "ws")
    (workspace / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"secured": {"type": "http", "url": oauth_server}}})
    )
    steps = happy_path()
    steps[3] = ScriptedTurn(
        tool_calls=[ToolUse("mcp__secured__greet", {"name": "Grace"}, id="m-greet")]
    )
    approvals = SigningIn()
    agent = find_agent("backend-developer", workspace)
    with ScriptedServer(Model(steps)) as server:
        session = Session.start(agent, workspace, "Fix add()", provider(server.base_url), approvals)
        state = asyncio.run(session.run())

    assert state.status is Status.COMPLETED, state.reason
    signs = [q for q in approvals.asked if q.kind == "sign-in"]
    assert len(signs) == 1 and "'secured'" in signs[0].title, signs
    results = {e.data["id"]: e.data for e in session.log.read() if e.type == "tool_result"}
    assert "Hello, Grace!" in results["m-greet"]["text"], results["m-greet"]
    token = json.loads(token_file(oauth_server).read_text())["tokens"]["access_token"]
    for path in (workspace / ".plangate").rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path


def test_plangate_mcp_signs_in_from_the_terminal_and_signs_out(
    oauth_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from plangate.mcp.listing import print_servers
    from plangate.mcp.listing import sign_out as sign_out_command

    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    home.mkdir()
    (home / ".claude.json").write_text(
        json.dumps({"mcpServers": {"secured": {"type": "http", "url": oauth_server}}})
    )
    workspace = make_workspace(tmp_path / "ws")
    agent = find_agent("backend-developer", workspace)
    out = io.StringIO()
    assert print_servers(workspace, agent, out) == 1
    assert "sign in first, in a session or a terminal" in out.getvalue(), out.getvalue()
    browser = Browser()
    out = io.StringIO()
    assert print_servers(workspace, agent, out, sign_in=browser) == 0, out.getvalue()
    assert "mcp__secured__greet" in out.getvalue() and len(browser.opened) == 1
    out = io.StringIO()
    assert print_servers(workspace, agent, out) == 0
    assert "signed in" in out.getvalue()
    out = io.StringIO()
    assert sign_out_command(workspace, "secured", out) == 0
    assert "signed out" in out.getvalue() and not signed_in(oauth_server)
