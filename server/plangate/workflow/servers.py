"""The session's MCP servers: started when it runs (each failure a message, never a failed
session), their tools added to the session's, stopped when it stops running."""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable

from plangate.agents import Agent
from plangate.diagnostics import display_path
from plangate.layout import Layout
from plangate.mcp.config import ServerSpec, load_servers
from plangate.mcp.connection import Connection, McpError, McpTool
from plangate.mcp.rules import names
from plangate.mcp.tool import McpCall
from plangate.permissions.rules import Rule
from plangate.workflow.approvals import question
from plangate.workflow.core import SessionCore
from plangate.workflow.events import McpConnected


def offered(agent: Agent, tool: McpTool) -> bool:
    """Whether the agent's `tools` let the model have this MCP tool: a setting for either of
    its names (exact or a wildcard) decides, a turned-off one first; else the default."""
    said = [
        on
        for pattern, on in agent.tools.items()
        if pattern != "*"
        and any(fnmatch.fnmatchcase(n, p) for n in names(tool) for p in _server_wide(pattern))
    ]
    if said:
        return all(said)
    return agent.tools.get("*", True)


def _server_wide(pattern: str) -> tuple[str, ...]:
    """Claude Code's `mcp__github` names every tool of that server."""
    if pattern.startswith("mcp__") and pattern.count("__") == 1:
        return pattern, f"{pattern}__*"
    return (pattern,)


class Servers(SessionCore):
    """Starts and stops the session's MCP servers."""

    _connections: list[Connection] | None = None

    async def _connect_servers(self) -> None:
        """Start every enabled server the workspace configures (once per run)."""
        if self._connections is not None:
            return
        self._connections = []
        configured = load_servers(self.workspace)
        rules = self.agent.permission.get("mcp", [])
        for spec in configured.specs.values():
            if not spec.enabled or not await self._trusted(spec):
                continue
            log = Layout(self.workspace).root / "logs" / f"mcp-{spec.name}.log"
            connection = Connection(spec, self.workspace, errlog=log, sign_in=self._signer(spec))
            connection.on_change = self._refresher(connection, rules)
            # Known before it starts: a session stopped meanwhile stops it too.
            self._connections.append(connection)
            try:
                tools = await connection.start()
            except McpError as exc:
                self._emit(McpConnected(name=spec.name, transport=spec.transport, error=str(exc)))
                continue
            usable = self._offer(connection, tools, rules)
            self._emit(
                McpConnected(
                    name=spec.name, transport=spec.transport, tools=[t.name for t in usable]
                )
            )

    async def _trusted(self, spec: ServerSpec) -> bool:
        """A server the project configures runs a program (or reaches a URL) with the user's
        rights, outside the sandbox: it starts only once the user agrees (asked once per
        session). The user's own servers start without asking."""
        if not spec.project:
            return True
        where = f"{display_path(spec.where.file, self.workspace)}:{spec.where.line}"
        answer = await self._ask(
            question(
                "permission",
                f"mcp-server:{spec.name}#1",
                f"Start the MCP server '{spec.name}' ({spec.describe()}) that {where} "
                "configures? It runs with your rights, outside the sandbox.",
                command=spec.describe(),
            )
        )
        if answer.choice == "deny":
            error = f"MCP server '{spec.name}' not started: the user said no"
            self._emit(McpConnected(name=spec.name, transport=spec.transport, error=error))
            return False
        return True

    def _signer(self, spec: ServerSpec) -> Callable[[str], Awaitable[bool]]:
        """Asks the user to sign in to a server that wants it: a question of its own each time
        (a new number: an answer from before a restart is not this sign-in's)."""

        async def sign_in(url: str) -> bool:
            prefix = f"mcp-sign-in:{spec.name}#"
            number = 1 + sum(1 for q in self.state.questions if q.startswith(prefix))
            answer = await self._ask(
                question(
                    "sign-in",
                    f"{prefix}{number}",
                    f"The MCP server '{spec.name}' ({spec.describe()}) asks you to sign in: "
                    "open the page in a browser.",
                    url=url,
                )
            )
            return answer.choice == "open"

        return sign_in

    def _refresher(
        self, connection: Connection, rules: list[Rule]
    ) -> Callable[[list[McpTool]], None]:
        def refresh(tools: list[McpTool]) -> None:
            self._offer(connection, tools, rules)

        return refresh

    def _offer(
        self, connection: Connection, tools: list[McpTool], rules: list[Rule]
    ) -> list[McpTool]:
        """The server's tools the agent may have, as the session's (again when it says they
        changed: the next model turn sees the new list)."""
        mine = [
            n
            for n, t in self.tools.items()
            if isinstance(t, McpCall) and t.connection is connection
        ]
        for name in mine:
            del self.tools[name]
        usable = []
        for tool in (t for t in tools if offered(self.agent, t)):
            if tool.qualified in self.tools:  # a built-in's or another server's name: not hidden
                continue
            self.tools[tool.qualified] = McpCall(tool, connection, rules)
            usable.append(tool)
        return usable

    async def _disconnect_servers(self) -> None:
        """Stop them; the next run starts them again."""
        for connection in self._connections or []:
            await connection.stop()
        for name in [n for n, t in self.tools.items() if isinstance(t, McpCall)]:
            del self.tools[name]
        self._connections = None
