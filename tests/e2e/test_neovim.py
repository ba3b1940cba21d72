"""A real editor: headless Neovim (Debian's `neovim`, installed when missing) drives the server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plangate.model.scripted import ScriptedServer
from tests.workflow.scenario import Model, make_workspace

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def nvim() -> str:
    found = shutil.which("nvim")
    if found is None and shutil.which("apt-get"):
        for command in (
            ["apt-get", "install", "-y", "-q", "neovim"],
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "neovim"],
        ):
            subprocess.run(command, capture_output=True, timeout=600, check=False)
            found = shutil.which("nvim")
            if found:
                break
    if found is None:
        pytest.skip("neovim is not installed and apt-get could not install it")
    return found


def test_neovim_reads_diagnostics_and_presses_a_code_lens(nvim: str, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws").resolve()
    (workspace / ".env").write_text("SECRET=1\n")
    out = tmp_path / "out.json"
    with ScriptedServer(Model()) as server:
        env = {
            **os.environ,
            "PLANGATE_WS": str(workspace),
            "PLANGATE_OUT": str(out),
            "PLANGATE_PYTHON": sys.executable,
            "PLANGATE_BASE_URL": server.base_url,
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }
        run = subprocess.run(
            [nvim, "--headless", "--clean", "-u", str(HERE / "neovim.lua")],
            env=env,
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert out.exists(), run.stderr[-2000:]
    seen = json.loads(out.read_text())
    assert "error" not in seen, seen
    assert "**/*.env*" in seen["env_diagnostic"]
    assert seen["lenses"][:3] == ["Approve plan", "Revise…", "Reject"]
    assert seen["status"] == "awaiting phase approval" and seen["pending_phase"] == 1
