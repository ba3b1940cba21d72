"""`plangate mcp`: the workspace's MCP servers, started one by one, with their tools and what an
agent's rules and the plan gate make of each (before the plan / once a phase runs)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from plangate.agents import Agent
from plangate.diagnostics import display_path
from plangate.mcp.config import load_servers
from plangate.mcp.connection import Connection, McpError
from plangate.mcp.oauth import SIGN_IN_TIMEOUT, SignIn, signed_in
from plangate.mcp.oauth import sign_out as forget
from plangate.mcp.rules import decide
from plangate.permissions import Action, Policy


def print_servers(
    workspace: Path,
    agent: Agent,
    out: TextIO,
    *,
    project_servers: bool = False,
    sign_in: SignIn | None = None,
) -> int:
    """Print every configured server and its tools; 1 when one could not be started or its
    configuration has errors. A server the project configures is started only when asked
    (`project_servers`); one that asks to sign in, only with `sign_in`."""
    return asyncio.run(_print(workspace, agent, out, project_servers, sign_in))


def terminal_sign_in(out: TextIO) -> SignIn:
    """Signing in from the terminal: the page's address, to open in a browser."""

    async def sign_in(url: str) -> bool:
        print(f"  open this page to sign in (waiting up to {SIGN_IN_TIMEOUT:g} s):", file=out)
        print(f"  {url}", file=out, flush=True)
        return True

    return sign_in


def sign_out(workspace: Path, name: str, out: TextIO) -> int:
    """Forget the tokens kept for the remote server `name`; 1 when there is no such server."""
    spec = load_servers(workspace).specs.get(name)
    if spec is None or spec.transport == "stdio":
        print(f"no remote MCP server '{name}' is configured here", file=out)
        return 1
    forgot = forget(spec.url)
    print(f"{name}: {'signed out' if forgot else 'was not signed in'}", file=out)
    return 0


async def _print(
    workspace: Path, agent: Agent, out: TextIO, project_servers: bool, sign_in: SignIn | None
) -> int:
    servers = load_servers(workspace)
    for problem in servers.diagnostics:
        print(problem.display(workspace), file=out)
    if not servers.specs:
        print("no MCP servers configured (opencode.json `mcp`, .mcp.json `mcpServers`)", file=out)
        return 1 if servers.diagnostics else 0
    policy = Policy(agent.permission, workspace)
    rules = agent.permission.get("mcp", [])
    failed = bool(servers.diagnostics)
    for spec in servers.specs.values():
        where = f"{display_path(spec.where.file, workspace)}:{spec.where.line}"
        print(f"{spec.name}  {spec.describe()}  ({where})", file=out)
        if not spec.enabled:
            print("  turned off (enabled: false)", file=out)
            continue
        if spec.project and not project_servers:
            print("  the project's: not started (--project-servers starts it)", file=out)
            continue
        if spec.signs_in and signed_in(spec.url):
            print("  signed in", file=out)
        connection = Connection(spec, workspace, sign_in=sign_in)
        try:
            tools = await connection.start()
        except McpError as exc:
            print(f"  {exc}", file=out)
            failed = True
            continue
        try:
            for tool in tools:
                decision = decide(policy, rules, tool, {})
                before = (
                    "runs" if decision.action is Action.ALLOW and decision.read_only else "refused"
                )
                hints = (
                    "read-only"
                    if tool.read_only
                    else "destructive"
                    if tool.destructive
                    else "writes"
                )
                print(
                    f"  {tool.qualified:<48} {hints:<11} before the plan: {before:<7} "
                    f"in a phase: {decision.action.value}  ({decision.reason})",
                    file=out,
                )
        finally:
            await connection.stop()
    return 1 if failed else 0
