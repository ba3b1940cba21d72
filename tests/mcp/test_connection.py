"""The MCP client against the reference "everything" server (stdio and Streamable HTTP) and the
git server: tools with their hints, results, errors, images, a server that dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest

from plangate.diagnostics import SourcePos
from plangate.mcp.config import ServerSpec
from plangate.mcp.connection import Connection, McpError
from tests.mcp.listen import free_port, node_server

HERE = Path(__file__).parent


def _spec(name: str, command: list[str]) -> ServerSpec:
    return ServerSpec(name, "stdio", SourcePos(file=HERE / ".mcp.json", line=1), tuple(command))


def test_everything_over_stdio(everything_server: list[str], tmp_path: Path) -> None:
    async def scenario() -> None:
        connection = Connection(_spec("everything", everything_server), tmp_path, tmp_path / "log")
        try:
            tools = {t.name: t for t in await connection.start()}
            assert tools["echo"].read_only and not tools["echo"].destructive
            assert not tools["toggle-simulated-logging"].read_only
            assert tools["echo"].qualified == "mcp__everything__echo"
            assert (await connection.call("echo", {"message": "hi"})).text == "Echo: hi"
            summed = await connection.call("get-sum", {"a": 2, "b": 3})
            assert "5" in summed.text and not summed.is_error
            image = await connection.call("get-tiny-image", {})
            assert image.images and image.images[0][0] == "image/png"
            lines: list[str] = []
            slow = await connection.call(
                "trigger-long-running-operation", {"duration": 1, "steps": 3}, lines.append
            )
            assert not slow.is_error and len(lines) == 3, (slow, lines)  # progress, as it came
            assert lines[-1].startswith("3/3"), lines
            wrong = await connection.call("get-sum", {"a": "two"})  # the server's error answer
            assert wrong.is_error, wrong
            unknown = await connection.call("no-such-tool", {})
            assert unknown.is_error and "no-such-tool" in unknown.text, unknown
        finally:
            await connection.stop()
        # The server's stderr went to its log, not to the terminal or the editor's stream.
        assert (tmp_path / "log").exists()

    asyncio.run(scenario())


def test_a_changed_tool_list_is_read_again(everything_server: list[str], tmp_path: Path) -> None:
    """The server registers `get-roots-list` once it knows the client has roots (the
    workspace), and says its tools changed: the list is read again and passed on."""
    told: list[list[str]] = []

    async def scenario() -> None:
        connection = Connection(
            _spec("everything", everything_server),
            tmp_path,
            on_change=lambda tools: told.append([t.name for t in tools]),
        )
        try:
            await connection.start()
            for _ in range(50):  # bounded: 5 s, until the notification came
                if connection.refreshed:
                    break
                await asyncio.sleep(0.1)
            assert connection.refreshed >= 1
            assert "get-roots-list" in {t.name for t in connection.tools}
            assert told and "get-roots-list" in told[-1]
            roots = await connection.call("get-roots-list", {})
            assert tmp_path.resolve().as_uri() in roots.text, roots.text
        finally:
            await connection.stop()

    asyncio.run(scenario())


def test_a_server_that_dies_is_started_again(git_server: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)

    async def scenario() -> None:
        connection = Connection(_spec("git", [str(git_server), "--repository", str(repo)]), repo)
        try:
            await connection.start()
            args = {"repo_path": str(repo)}
            assert "On branch" in (await connection.call("git_status", args)).text
            found = subprocess.run(
                ["pgrep", "-f", "--", f"--repository {repo}"], capture_output=True, text=True
            )
            for pid in found.stdout.split():
                os.kill(int(pid), signal.SIGKILL)
            with pytest.raises(McpError, match=r"the server stopped .*started again"):
                await connection.call("git_status", args)
            assert "On branch" in (await connection.call("git_status", args)).text
        finally:
            await connection.stop()

    asyncio.run(scenario())


def test_everything_over_streamable_http(everything_server: list[str], tmp_path: Path) -> None:
    port = free_port()
    _, entry, _ = everything_server
    spec = ServerSpec(
        "remote",
        "http",
        SourcePos(file=HERE / "opencode.json", line=1),
        url=f"http://127.0.0.1:{port}/mcp",
        headers=(("X-Test", "1"),),
    )

    async def scenario() -> None:
        connection = Connection(spec, tmp_path)
        try:
            assert "echo" in {t.name for t in await connection.start()}
            assert (
                await connection.call("echo", {"message": "over http"})
            ).text == "Echo: over http"
        finally:
            await connection.stop()

    with node_server([entry, "streamableHttp"], {"PORT": str(port)}, port):
        asyncio.run(scenario())
