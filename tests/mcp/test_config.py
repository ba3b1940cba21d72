"""MCP servers from opencode.json's `mcp` block and Claude Code's `.mcp.json`: read with their
place in the file, `${VAR}` expanded, problems reported where they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from plangate.mcp.config import load_servers

OPENCODE = """{
  "mcp": {
    "git": {"type": "local", "command": ["uvx", "mcp-server-git"],
            "environment": {"A": "{env:MCP_TEST_A}"}},
    "docs": {"type": "remote", "url": "https://example.invalid/mcp", "enabled": false},
    "broken": {"type": "local"},
  },
}
"""

CLAUDE = """{
  "mcpServers": {
    "everything": {"command": "npx",
                   "args": ["-y", "@modelcontextprotocol/server-everything", "${MODE:-stdio}"]},
    "api": {"type": "http", "url": "${API_URL}/mcp",
            "headers": {"Authorization": "Bearer ${API_TOKEN}"}},
    "git": {"command": "python3", "args": ["-m", "mcp_server_git"]},
    "bad name!": {"command": "x"}
  }
}
"""


def test_both_files_are_read_with_positions_and_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("MCP_TEST_A", "a-value")
    monkeypatch.setenv("API_URL", "https://api.example.invalid")
    monkeypatch.setenv("API_TOKEN", "secret-token")
    monkeypatch.delenv("MODE", raising=False)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "opencode.jsonc").write_text(OPENCODE)
    (tmp_path / "ws" / ".mcp.json").write_text(CLAUDE)

    found = load_servers(tmp_path / "ws")

    assert sorted(found.specs) == ["api", "docs", "everything", "git"]
    # .mcp.json comes after opencode.json: its git replaces opencode's.
    assert found.specs["git"].command == ("python3", "-m", "mcp_server_git")
    assert found.specs["everything"].command[-1] == "stdio"  # ${MODE:-stdio}
    api = found.specs["api"]
    assert (api.transport, api.url) == ("http", "https://api.example.invalid/mcp")
    assert dict(api.headers) == {"Authorization": "Bearer secret-token"}
    assert "secret-token" not in api.describe()
    assert found.specs["docs"].enabled is False
    assert (found.specs["everything"].where.line, found.specs["everything"].where.column) == (3, 5)
    problems = sorted((d.pos.file.name, d.pos.line, d.message) for d in found.diagnostics)
    assert problems == [
        (".mcp.json", 8, "MCP server name 'bad name!': letters, digits, '_' and '-' only"),
        ("opencode.jsonc", 6, "a local MCP server needs 'command': [program, args...]"),
    ]


def test_check_and_the_editor_report_the_same_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plangate.cli import main
    from plangate.lsp.agentfiles import problems

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".mcp.json").write_text(CLAUDE)
    (workspace / "opencode.jsonc").write_text(OPENCODE)
    monkeypatch.chdir(workspace)
    lines: list[str] = []
    monkeypatch.setattr(
        "sys.stdout",
        type("Out", (), {"write": lambda _s, t: lines.append(t), "flush": lambda _s: None})(),
    )
    code = main(["check"])
    printed = "".join(lines)
    assert code == 1, printed
    for name in (".mcp.json", "opencode.jsonc"):
        path = workspace / name
        for problem in problems(path.as_uri(), path.read_text()):
            assert problem.display() in printed, (problem.display(), printed)
    assert ".mcp.json:8:5: error: MCP server name 'bad name!'" in printed


def test_the_users_servers_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    (home / ".claude.json").write_text(
        '{"numStartups": 3, "mcpServers": {"mine": {"command": "a"}, "git": {"command": "b"}}}'
    )
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / ".mcp.json").write_text('{"mcpServers": {"git": {"command": "c"}}}')
    found = load_servers(tmp_path / "ws")
    assert {n: s.command for n, s in found.specs.items()} == {"mine": ("a",), "git": ("c",)}


def test_what_is_shown_never_holds_a_value_of_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("DOCS_TOKEN", "tok-1234567890")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "opencode.json").write_text(
        '{"mcp": {"docs": {"type": "remote", "url": "https://docs.invalid/mcp?key={env:DOCS_TOKEN}"}}}'
    )
    (tmp_path / "ws" / ".mcp.json").write_text(
        '{"mcpServers": {"api": {"command": "srv", "args": ["--token", "${DOCS_TOKEN}"]}}}'
    )
    found = load_servers(tmp_path / "ws")
    assert found.specs["docs"].url.endswith("key=tok-1234567890")  # what is used
    assert found.specs["docs"].describe() == "http: https://docs.invalid/mcp?key={env:…}"
    assert found.specs["api"].command[-1] == "tok-1234567890"
    assert found.specs["api"].describe() == "stdio: srv --token ${DOCS_TOKEN}"
    assert all(s.project for s in found.specs.values())


def test_oauth_settings_are_read_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plangate.mcp.oauth import OAuthSettings

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("DOCS_SECRET", "s3cret-value")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "opencode.json").write_text("""{
  "mcp": {
    "off": {"type": "remote", "url": "https://a.invalid/mcp", "oauth": false},
    "own": {"type": "remote", "url": "https://b.invalid/mcp",
            "oauth": {"clientId": "pg", "clientSecret": "{env:DOCS_SECRET}", "scope": "read"}},
    "keyed": {"type": "remote", "url": "https://c.invalid/mcp",
              "headers": {"Authorization": "Bearer x"}},
    "wrong": {"type": "remote", "url": "https://d.invalid/mcp", "oauth": {"clientId": 7}}
  }
}""")
    (tmp_path / "ws" / ".mcp.json").write_text(
        '{"mcpServers": {"cc": {"type": "http", "url": "https://e.invalid/mcp",'
        ' "oauth": {"clientId": "x", "callbackPort": 8765}}}}'
    )
    found = load_servers(tmp_path / "ws")
    specs = found.specs
    assert specs["off"].oauth is None and not specs["off"].signs_in
    assert specs["own"].oauth == OAuthSettings("pg", "s3cret-value", "read")
    assert "s3cret-value" not in specs["own"].describe()
    assert not specs["keyed"].signs_in, "its own Authorization header: no OAuth"
    assert specs["cc"].oauth == OAuthSettings(client_id="x", port=8765) and specs["cc"].signs_in
    problems = [(d.pos.line, d.message) for d in found.diagnostics]
    assert problems == [(8, "'clientId' must be a string")], problems
