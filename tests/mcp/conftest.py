"""Real MCP servers nobody here wrote, installed once outside the repository (in
~/.cache/plangate-mcp): the reference git server (`mcp-server-git`, PyPI) and the reference
"everything" server (`@modelcontextprotocol/server-everything`, npm). Where one cannot be
installed, its tests skip saying why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mcp.listen import free_port, node_server

CACHE = Path(os.environ.get("PLANGATE_MCP_CACHE") or Path.home() / ".cache" / "plangate-mcp")
GIT_SERVER = "mcp-server-git==2026.10.19"
EVERYTHING = "@modelcontextprotocol/server-everything@2026.8.31"


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def git_server() -> Path:
    """The `mcp-server-git` program, in a venv of its own."""
    venv = CACHE / "git-venv"
    program = venv / "bin" / "mcp-server-git"
    if not program.exists():
        shutil.rmtree(venv, ignore_errors=True)
        made = _run([sys.executable, "-m", "venv", str(venv)], 120)
        if made.returncode == 0:
            made = _run([str(venv / "bin" / "pip"), "install", "-q", GIT_SERVER], 600)
        if made.returncode != 0 or not program.exists():
            pytest.skip(f"mcp-server-git could not be installed: {made.stderr.strip()[-300:]}")
    return program


@pytest.fixture(scope="session")
def everything_server() -> list[str]:
    """The command that starts the reference "everything" server over stdio."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("server-everything: node and npm are not installed on this machine")
    prefix = CACHE / "npm"
    entry = (
        prefix
        / "node_modules"
        / "@modelcontextprotocol"
        / "server-everything"
        / "dist"
        / "index.js"
    )
    if not entry.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        done = _run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", EVERYTHING], 600
        )
        if done.returncode != 0 or not entry.exists():
            pytest.skip(f"server-everything could not be installed: {done.stderr.strip()[-300:]}")
    return ["node", str(entry), "stdio"]


@pytest.fixture()
def oauth_server(everything_server: list[str]) -> Iterator[str]:
    """The TypeScript SDK's own example server with its demo authorization server
    (`simpleStreamableHttp.js --oauth`, installed with server-everything): every request needs
    a token, got by discovery, registration, PKCE and a browser's redirect. Its URL."""
    sdk = Path(everything_server[1]).parents[2] / "sdk"
    script = sdk / "dist" / "esm" / "examples" / "server" / "simpleStreamableHttp.js"
    if not script.exists():
        pytest.skip(f"the MCP TypeScript SDK's example server is not at {script}")
    port, auth_port = free_port(), free_port()
    env = {"MCP_PORT": str(port), "MCP_AUTH_PORT": str(auth_port)}
    with node_server([str(script), "--oauth"], env, port):
        yield f"http://localhost:{port}/mcp"
