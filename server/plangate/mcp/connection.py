"""One running MCP server, through the official `mcp` SDK: started on first use, its tools
listed (again when it says they changed), called, restarted with backoff when it died, stopped
with the session.

The SDK's client is an async context that must be entered and left in one task: a task of its
own holds it open; calls from the session are made on the client it opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from plangate.mcp.config import ServerSpec
from plangate.mcp.oauth import SIGN_IN_TIMEOUT, SignIn, SignInError, provider

if TYPE_CHECKING:
    import mcp_types
    from mcp.client.session import ClientRequestContext

START_TIMEOUT = 60.0  # seconds for a server to start and list its tools (npx may download)
CALL_TIMEOUT = 120.0
RESTARTS = 3  # tries after the server died, 0.5 s, 1 s, 2 s apart


class McpError(Exception):
    """A server that cannot be reached or answered with an error: a clear message, never a
    failed session."""


@dataclass(frozen=True)
class McpTool:
    """A tool a server offers, with what it says about itself."""

    server: str
    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool = False
    destructive: bool = False

    @property
    def qualified(self) -> str:
        """The name the model sees: `mcp__<server>__<tool>` (Claude Code's spelling), in the
        characters and length the Messages API takes for a tool name."""
        return _api_name(f"mcp__{self.server}__{self.name}")


@dataclass(frozen=True)
class McpResult:
    """A tool's answer: text, images (base64 with their media type), whether it failed."""

    text: str
    images: tuple[tuple[str, str], ...] = ()
    is_error: bool = False


class Connection:
    """One MCP server for one session."""

    def __init__(
        self,
        spec: ServerSpec,
        workspace: Path,
        errlog: Path | None = None,
        on_change: Callable[[list[McpTool]], None] | None = None,
        sign_in: SignIn | None = None,
    ) -> None:
        self.spec = spec
        # Shows the user where to sign in when a remote server asks (None: it cannot be done).
        self.sign_in = sign_in
        self._signing_in = False
        # The last HTTP error status a remote server answered (the SDK's error does not say).
        self._refused: int | None = None
        self.workspace = workspace
        # Told the new list when the server says its tools changed.
        self.on_change = on_change
        self.refreshed = 0
        # Where a stdio server's stderr goes (not the terminal's or the editor's stream).
        self.errlog = errlog
        self.tools: list[McpTool] = []
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._failure: BaseException | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> list[McpTool]:
        """Start the server (if not running) and return its tools; McpError when it cannot.
        One start at a time; cancelled while starting, the server is stopped, not left."""
        async with self._starting:
            if self._task is not None and not self._task.done() and self._ready.is_set():
                return self.tools
            try:
                return await self._start()
            except BaseException:
                await asyncio.shield(self.stop())
                raise

    async def _start(self) -> list[McpTool]:
        delay = 0.5
        for attempt in range(RESTARTS + 1):
            self._ready, self._stop, self._failure = asyncio.Event(), asyncio.Event(), None
            self._signing_in = False
            self._refused = None
            self._task = asyncio.create_task(self._serve(), name=f"mcp:{self.spec.name}")
            ready = asyncio.create_task(self._ready.wait())
            try:
                await asyncio.wait(
                    [ready, self._task], timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
                )
                if self._signing_in:  # a person signs in: their time is not the server's
                    await asyncio.wait(
                        [ready, self._task],
                        timeout=SIGN_IN_TIMEOUT + START_TIMEOUT,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
            finally:
                ready.cancel()
            if self._ready.is_set():
                return self.tools
            hung = not self._task.done()
            await self.stop()
            refused = self._refused in (401, 403)
            # A sign-in that happened and failed is not tried again unasked either.
            if hung or refused or self._signing_in or _caused_by(self._failure, SignInError):
                break  # not waited for, or asked about, again and again
            if attempt < RESTARTS:
                await asyncio.sleep(delay)
                delay *= 2
        why = self._failure or TimeoutError(f"no answer within {START_TIMEOUT:g} s")
        raise McpError(
            f"MCP server '{self.spec.name}' ({self.spec.describe()}) did not start: "
            f"{_reason(why)}{self._refusal()}"
        )

    def _refusal(self) -> str:
        """What an HTTP refusal means for the user (a sign-in that failed says it itself)."""
        if _caused_by(self._failure, SignInError):
            return ""
        if self._refused == 401:
            if not self.spec.signs_in:
                return " (HTTP 401: the server asks to sign in, and signing in is turned off)"
            return " (HTTP 401: the server did not take the token)"
        return f" (HTTP {self._refused})" if self._refused else ""

    async def call(
        self,
        tool: str,
        arguments: dict[str, Any],
        progress: Callable[[str], None] | None = None,
    ) -> McpResult:
        """Call `tool`; a server found stopped is started again first. A call that fails
        because the server died is not repeated (it may have done its work): the server is
        started again for the next call, and the error says so."""
        from mcp.shared.exceptions import MCPError
        from mcp_types import CONNECTION_CLOSED

        if self._task is None or self._task.done():
            await self.start()
        try:
            result = await asyncio.wait_for(
                self._client.call_tool(tool, arguments, progress_callback=_progress(progress)),
                CALL_TIMEOUT,
            )
        except TimeoutError as exc:
            raise McpError(
                f"{self.spec.name}: '{tool}' gave no answer within {CALL_TIMEOUT:g} s"
            ) from exc
        except MCPError as exc:
            if exc.code != CONNECTION_CLOSED:  # the server's own error answer: it is still there
                raise McpError(f"{self.spec.name}: '{tool}' failed: {exc.error.message}") from exc
            await self._restarted(tool, exc)
        except Exception as exc:  # the transport: the server is gone
            await self._restarted(tool, exc)
        return _result(result)

    async def _restarted(self, tool: str, exc: BaseException) -> NoReturn:
        """The server died under a call: start it again for the next one; raise for this one."""
        await self.stop()
        try:
            await self.start()
            again = "it was started again; call the tool again if it should run"
        except McpError as failed:
            again = str(failed)
        raise McpError(
            f"{self.spec.name}: '{tool}' failed, the server stopped ({_reason(exc)}): {again}"
        ) from exc

    async def stop(self) -> None:
        """Stop the server (its process ends with the client)."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 10)
            if not self._task.done():
                self._task.cancel()
        self._client = None

    async def _serve(self) -> None:
        from mcp import Client  # the SDK loads when a session first needs a server

        try:
            async with (
                contextlib.AsyncExitStack() as files,
                Client(
                    await self._target(files),
                    message_handler=self._message,
                    list_roots_callback=self._roots,
                ) as client,
            ):
                self._client = client
                self.tools = await self._list(client)
                self._ready.set()
                await self._stop.wait()
        except Exception as exc:  # reported by start() or the next call
            self._failure = exc

    async def _target(self, files: contextlib.AsyncExitStack) -> Any:
        from mcp.client.stdio import StdioServerParameters, stdio_client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        if self.spec.transport == "stdio":
            program, *args = self.spec.command
            # The SDK passes on only a safe part of our environment (never the API key),
            # with the server's own `env` over it.
            params = StdioServerParameters(
                command=program, args=args, env=dict(self.spec.env), cwd=str(self.workspace)
            )
            if self.errlog is None:
                return params
            self.errlog.parent.mkdir(parents=True, exist_ok=True)
            log = files.enter_context(self.errlog.open("a", encoding="utf-8"))
            return stdio_client(params, errlog=log)
        headers = dict(self.spec.headers)
        auth = self._auth()
        if self.spec.transport == "sse":  # the older HTTP+SSE transport
            from mcp.client.sse import sse_client

            return sse_client(self.spec.url, headers=headers, auth=auth)
        # The SDK's client (its timeouts: a long read for the event stream), closed with us.
        http = await files.enter_async_context(create_mcp_http_client(headers=headers, auth=auth))
        http.event_hooks["response"].append(self._status)
        return streamable_http_client(self.spec.url, http_client=http)

    async def _status(self, response: Any) -> None:
        # The server's own answers only, not those of its authorization server.
        if response.status_code >= 400 and str(response.request.url) == self.spec.url:
            self._refused = response.status_code

    def _auth(self) -> Any:
        """The SDK's OAuth handler, for a server that may ask to sign in: it uses the kept
        tokens; a new sign-in needs someone to ask (`sign_in`)."""
        if not self.spec.signs_in or self.spec.oauth is None:
            return None
        ask = self.sign_in

        async def sign_in(url: str) -> bool:
            if ask is None:
                raise SignInError("sign in first, in a session or a terminal")
            self._signing_in = True
            return await ask(url)

        return provider(self.spec.name, self.spec.url, self.spec.oauth, sign_in)

    async def _list(self, client: Any) -> list[McpTool]:
        listed = await client.list_tools()
        tools = []
        for tool in listed.tools:
            hints = tool.annotations
            tools.append(
                McpTool(
                    server=self.spec.name,
                    name=tool.name,
                    description=tool.description or "",
                    input_schema=dict(tool.input_schema or {"type": "object"}),
                    read_only=bool(hints and hints.read_only_hint),
                    destructive=bool(hints and hints.destructive_hint),
                )
            )
        return tools

    async def _message(self, message: Any) -> None:
        # notifications/tools/list_changed: the next turn offers the new list.
        method = getattr(getattr(message, "root", message), "method", "")
        if method == "notifications/tools/list_changed" and self._client is not None:
            with contextlib.suppress(Exception):
                self.tools = await self._list(self._client)
                self.refreshed += 1
                if self.on_change is not None:
                    self.on_change(self.tools)

    async def _roots(self, context: ClientRequestContext) -> mcp_types.ListRootsResult:
        """The workspace is the one root the server is told about (MCP roots)."""
        import mcp_types
        from pydantic import FileUrl

        uri = FileUrl(self.workspace.resolve().as_uri())
        return mcp_types.ListRootsResult(roots=[mcp_types.Root(uri=uri, name=self.workspace.name)])


def _api_name(name: str) -> str:
    """A tool name as the API takes it: letters, digits, `_` and `-`, at most 64."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64]


def _progress(report: Callable[[str], None] | None) -> Any:
    """The SDK's progress callback, as lines of text (`3/5: message`); None: not asked for."""
    if report is None:
        return None

    async def progress(done: float, total: float | None, message: str | None) -> None:
        report(f"{done:g}{f'/{total:g}' if total else ''}{f': {message}' if message else ''}\n")

    return progress


def _result(result: Any) -> McpResult:
    texts: list[str] = []
    images: list[tuple[str, str]] = []
    for block in result.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            texts.append(block.text)
        elif kind == "image":
            images.append((block.mime_type, block.data))
        elif kind == "resource":
            resource = block.resource
            texts.append(getattr(resource, "text", None) or f"[resource {resource.uri}]")
        else:
            texts.append(f"[{kind} content]")
    return McpResult("\n".join(texts), tuple(images), bool(result.is_error))


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    """Whether `exc`, or one it groups or was raised from, is a `kind`."""
    if exc is None:
        return False
    if isinstance(exc, kind):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_caused_by(e, kind) for e in exc.exceptions)
    return _caused_by(exc.__cause__ or exc.__context__, kind)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_reason(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
