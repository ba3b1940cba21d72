"""Real MCP servers nobody here wrote, installed once outside the repository (in
~/.cache/plangate-mcp): the reference git server (`mcp-server-git`, PyPI) and the reference
"everything" server (`@modelcontextprotocol/server-everything`, npm). Where one cannot be
installed, its tests skip saying why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
