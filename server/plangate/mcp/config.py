"""MCP servers where users already configure them: the `mcp` block of opencode.json (local and
remote entries) and Claude Code's `.mcp.json` (`mcpServers`), with `${VAR}` expanded.

Every problem is a diagnostic at its place in the file, like an agent file's; a server that is
turned off (`enabled: false`) is kept, so listings can say so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from plangate.agents.frontmatter import KeyPath
from plangate.agents.instructions import home, repository_root, upward
from plangate.agents.opencode_config import ConfigFile, load_config, read_file
from plangate.diagnostics import Diagnostic, Severity, SourcePos
from plangate.mcp.oauth import OAuthSettings

Transport = Literal["stdio", "http", "sse"]
# Claude Code's expansion: ${VAR} and ${VAR:-default}.
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# What the Anthropic API accepts as a tool name: server and tool names must fit in it.
NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class ServerSpec:
    """One MCP server as configured: how to reach it, and where it was written."""

    name: str
    transport: Transport
    where: SourcePos
    command: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    url: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    enabled: bool = True
    # The command or URL as written, before `${VAR}` was replaced: what is shown.
    written: str = ""
    # Configured by the project (its .mcp.json or opencode.json), not by the user: started
    # only once the user agrees (a cloned repository must not run programs unasked).
    project: bool = False
    # Signing in when a remote server asks for it (None: the configuration turned it off).
    oauth: OAuthSettings | None = field(default_factory=OAuthSettings)

    @property
    def signs_in(self) -> bool:
        """A remote server PlanGate signs in to when it answers 401: OAuth not turned off and
        no `Authorization` header of the configuration's own."""
        return (
            self.transport != "stdio"
            and self.oauth is not None
            and not any(k.lower() == "authorization" for k, _ in self.headers)
        )

    def describe(self) -> str:
        """`stdio: uvx mcp-server-git` or `http: https://...`, as written: no value of the
        environment (`${API_TOKEN}` stays so), no header, no environment of the server."""
        if self.written:
            return f"{self.transport}: {self.written}"
        # opencode.json's {env:VAR} were replaced before it was read: hide what came of them.
        shown = " ".join(self.command) if self.transport == "stdio" else self.url
        for value in sorted(_secret_like(), key=len, reverse=True):
            shown = shown.replace(value, "{env:…}")
        return f"{self.transport}: {shown}"


@dataclass
class Servers:
    """The configured servers by name (a later file's entry replaces an earlier one's), and the
    problems found reading them."""

    specs: dict[str, ServerSpec] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _secret_like() -> set[str]:
    """Values of the environment long enough to be a key or token."""
    return {value for value in os.environ.values() if len(value) >= 8 and "/" not in value}


def expand(text: str) -> str:
    """`${VAR}` and `${VAR:-default}` from the environment (unset: the default, or empty)."""
    return _VAR.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), text)


class _Reader:
    def __init__(self, file: ConfigFile) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def report(self, path: KeyPath, message: str, *, key: bool = False) -> None:
        pos = self.file.parsed.pos(path, key=key)
        self.diagnostics.append(
            Diagnostic(pos=pos, severity=Severity.ERROR, code="mcp", message=message)
        )

    def strings(self, path: KeyPath, value: Any) -> tuple[tuple[str, str], ...]:
        if value is None:
            return ()
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.report(path, f"'{path[-1]}' must map names to strings")
            return ()
        return tuple((str(k), expand(v)) for k, v in value.items())

    def oauth(self, path: KeyPath, value: Any) -> OAuthSettings | None:
        """`oauth`: false turns signing in off; an object names a client registered
        beforehand (opencode's clientId/clientSecret/scope, Claude Code's callbackPort)."""
        if value is False:
            return None
        if value is True or value is None:
            return OAuthSettings()
        if not isinstance(value, dict):
            self.report(path, "'oauth' must be false or an object")
            return OAuthSettings()
        texts = {"clientId", "clientSecret", "scope"}
        for key, item in value.items():
            if key in texts and not isinstance(item, str):
                self.report((*path, key), f"'{key}' must be a string")
            elif key == "callbackPort" and not (isinstance(item, int) and 0 < item < 65536):
                self.report((*path, key), "'callbackPort' must be a port number")
            elif key not in texts | {"callbackPort"}:
                self.report((*path, key), f"unknown 'oauth' setting '{key}'", key=True)
        port = value.get("callbackPort")
        return OAuthSettings(
            client_id=expand(str(value.get("clientId") or "")),
            client_secret=expand(str(value.get("clientSecret") or "")),
            scope=str(value.get("scope") or ""),
            port=port if isinstance(port, int) and 0 < port < 65536 else 0,
        )

    def opencode(self, name: str, spec: Any) -> ServerSpec | None:
        path = ("mcp", name)
        where = self.file.parsed.pos(path, key=True)
        if not isinstance(spec, dict):
            self.report(path, f"MCP server '{name}' must be an object")
            return None
        enabled = spec.get("enabled", True) is not False
        kind = spec.get("type")
        if kind == "local":
            command = spec.get("command")
            if (
                not isinstance(command, list)
                or not command
                or not all(isinstance(c, str) for c in command)
            ):
                self.report(
                    (*path, "command"), "a local MCP server needs 'command': [program, args...]"
                )
                return None
            env = self.strings((*path, "environment"), spec.get("environment"))
            return ServerSpec(name, "stdio", where, tuple(command), env, enabled=enabled)
        if kind == "remote":
            url = spec.get("url")
            if not isinstance(url, str) or not url.strip():
                self.report((*path, "url"), "a remote MCP server needs 'url'")
                return None
            headers = self.strings((*path, "headers"), spec.get("headers"))
            oauth = self.oauth((*path, "oauth"), spec.get("oauth", True))
            return ServerSpec(
                name, "http", where, url=url.strip(), headers=headers, enabled=enabled, oauth=oauth
            )
        if kind is None and set(spec) <= {"enabled"}:
            return None  # only turns an inherited server on or off: applied by the caller
        self.report((*path, "type"), "'type' must be 'local' or 'remote'")
        return None

    def claude(self, name: str, spec: Any) -> ServerSpec | None:
        path = ("mcpServers", name)
        where = self.file.parsed.pos(path, key=True)
        if not isinstance(spec, dict):
            self.report(path, f"MCP server '{name}' must be an object")
            return None
        kind = spec.get("type", "stdio")
        if kind == "stdio":
            command, args = spec.get("command"), spec.get("args", [])
            if not isinstance(command, str) or not command.strip():
                self.report((*path, "command"), "a stdio MCP server needs 'command'")
                return None
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                self.report((*path, "args"), "'args' must be a list of strings")
                return None
            env = self.strings((*path, "env"), spec.get("env"))
            argv = tuple(expand(part) for part in [command, *args])
            written = " ".join([command, *args])
            return ServerSpec(name, "stdio", where, argv, env, written=written)
        if kind in ("http", "sse"):
            url = spec.get("url")
            if not isinstance(url, str) or not url.strip():
                self.report((*path, "url"), f"an {kind} MCP server needs 'url'")
                return None
            headers = self.strings((*path, "headers"), spec.get("headers"))
            oauth = self.oauth((*path, "oauth"), spec.get("oauth", True))
            return ServerSpec(
                name,
                kind,
                where,
                url=expand(url.strip()),
                headers=headers,
                written=url.strip(),
                oauth=oauth,
            )
        self.report((*path, "type"), "'type' must be 'stdio', 'http' or 'sse'")
        return None


def claude_files(workspace: Path) -> list[Path]:
    """The `.mcp.json` files from the repository root down to the workspace."""
    return [
        folder / ".mcp.json"
        for folder in reversed(upward(workspace.resolve()))
        if (folder / ".mcp.json").is_file()
    ]


def file_problems(path: Path, text: str | None = None) -> list[Diagnostic]:
    """The MCP problems of one file, for the editor: a `.mcp.json` (its JSON errors too), or
    the `mcp` block of an opencode.json (whose JSON errors are the config's to report)."""
    file = read_file(path, text)
    found = Servers()
    claude = path.name in (".mcp.json", ".claude.json")
    _read(found, file, "mcpServers" if claude else "mcp")
    if claude:
        return found.diagnostics
    return [d for d in found.diagnostics if d not in file.parsed.diagnostics]


def load_servers(workspace: Path) -> Servers:
    """Every MCP server configured for the workspace, weakest first (a later entry of the
    same name replaces an earlier one): the user's own (Claude Code's `~/.claude.json`),
    opencode.json's (the user's, then the project's), then the project's `.mcp.json`."""
    found = Servers()
    user = home() / ".claude.json"
    if user.is_file():
        # Claude Code's own state file, often large: its servers are what is wanted.
        _read(found, read_file(user, positions=False), "mcpServers")
    root = repository_root(workspace.resolve())
    for file in load_config(workspace).with_key("mcp"):
        _read(found, file, "mcp", project=file.path.resolve().is_relative_to(root))
    for path in claude_files(workspace):
        _read(found, read_file(path), "mcpServers", project=True)
    return found


def _read(found: Servers, file: ConfigFile, key: str, project: bool = False) -> None:
    reader = _Reader(file)
    found.diagnostics += file.parsed.diagnostics
    block = file.parsed.data.get(key)
    if not isinstance(block, dict):
        if block is not None:
            reader.report((key,), f"'{key}' must map server names to their settings")
        found.diagnostics += reader.diagnostics
        return
    for name, spec in block.items():
        if not NAME.match(name):
            message = f"MCP server name '{name}': letters, digits, '_' and '-' only"
            reader.report((key, name), message, key=True)
            continue
        if (
            key == "mcp"
            and isinstance(spec, dict)
            and set(spec) == {"enabled"}
            and name in found.specs
        ):
            old = found.specs[name]
            found.specs[name] = ServerSpec(
                **{**old.__dict__, "enabled": spec["enabled"] is not False}
            )
            continue
        server = reader.opencode(name, spec) if key == "mcp" else reader.claude(name, spec)
        if server is not None:
            found.specs[name] = replace(server, project=project)
    found.diagnostics += reader.diagnostics
