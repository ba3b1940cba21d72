"""Without a usable sandbox nothing runs silently unprotected: every command that is not
read-only is asked, with the reason, unless the workspace opts out in `.plangate/config.toml`.

The machine without bubblewrap is real: PATH holds only links to the programs the commands
use, so `shutil.which("bwrap")` finds nothing. The machine where user namespaces are off is a
`bwrap` on PATH that fails the way the real one does there, so the probe runs for real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plangate.agents import load_agent
from plangate.permissions import Policy
from plangate.tools import ToolContext, overlay
from plangate.tools.bash import BashTool
from plangate.tools.sandbox import support

from .conftest import Approver, run

BASH = BashTool()
# What the commands below run; bash finds them on PATH.
PROGRAMS = ("bash", "sh", "touch", "ls", "cat", "env", "git")
# The message bwrap prints where unprivileged user namespaces are disabled.
NO_USERNS = (
    "bwrap: No permissions to creating new namespace, likely because the kernel does not "
    "allow non-privileged user namespaces."
)
# What util-linux's mount prints where the kernel refuses an unprivileged overlay.
NO_OVERLAY = "mount: /w: wrong fs type, bad option, bad superblock on plangate."
AGENT = """---
description: allows git init, so what asks is the missing sandbox, not the rules
permissions:
  bash:
    "git init": allow
---
Test agent.
"""


@pytest.fixture
def no_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with the commands' programs and no bwrap."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in PROGRAMS:
        found = shutil.which(name)
        assert found is not None, f"{name} is needed by these tests"
        os.symlink(found, bin_dir / name)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("bwrap") is None
    return bin_dir


@pytest.fixture
def broken_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bwrap first on PATH that fails as on a kernel without user namespaces."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    fake = bin_dir / "bwrap"
    fake.write_text(f"#!/bin/sh\necho '{NO_USERNS}' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return fake


@pytest.fixture
def no_overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `mount` first on PATH that fails as on a kernel without unprivileged overlayfs, and no
    C compiler (a `cc` that fails), so the overlay is mounted by that `mount`."""
    bin_dir = tmp_path / "old-kernel-bin"
    bin_dir.mkdir()
    fake = bin_dir / "mount"
    fake.write_text(f"#!/bin/sh\necho '{NO_OVERLAY}' >&2\nexit 32\n")
    (bin_dir / "cc").write_text("#!/bin/sh\nexit 1\n")
    for script in (fake, bin_dir / "cc"):
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(overlay, "compiled", lambda *_: None)
    return fake


@pytest.fixture
def init_ctx(tmp_path: Path, workspace: Path) -> ToolContext:
    """A context whose rules allow `git init` (not read-only), with an approver that says no."""
    agent_file = tmp_path / "initialiser.md"
    agent_file.write_text(AGENT)
    agent = load_agent(agent_file)
    assert not agent.errors, agent.diagnostics
    return ToolContext(
        workspace=workspace, policy=Policy(agent.permission, workspace), confirm=Approver(False)
    )


def _asked(ctx: ToolContext) -> list[tuple[str, str]]:
    assert isinstance(ctx.confirm, Approver)
    return [(what, decision.reason) for what, decision in ctx.confirm.asked]


def test_allowed_command_is_asked_without_bwrap(
    no_bwrap: Path, init_ctx: ToolContext, workspace: Path
) -> None:
    result = run(BASH.run({"command": "git init -q"}, init_ctx))
    assert result.is_error and "did not approve" in result.text
    assert "no sandbox on this machine: bubblewrap (bwrap) is not installed" in result.text
    assert not (workspace / ".git" / "HEAD").exists()
    [(what, reason)] = _asked(init_ctx)
    assert what == "git init -q"
    assert reason.startswith("no sandbox on this machine: bubblewrap (bwrap) is not installed")


def test_approved_it_runs_and_says_unsandboxed(
    no_bwrap: Path, init_ctx: ToolContext, workspace: Path
) -> None:
    init_ctx.confirm = Approver(True)
    result = run(BASH.run({"command": "git init -q"}, init_ctx))
    assert not result.is_error, result.text
    assert (workspace / ".git" / "HEAD").exists()
    assert not result.data["sandboxed"]
    assert "ran without a sandbox: bubblewrap (bwrap) is not installed" in result.text
    assert len(_asked(init_ctx)) == 1


def test_engine_ask_carries_the_sandbox_reason_once(
    no_bwrap: Path, ctx: ToolContext, workspace: Path
) -> None:
    # The seed asks for `touch` already: one question, saying both why.
    approver = Approver(False)
    ctx.confirm = approver
    run(BASH.run({"command": "touch made.txt"}, ctx))
    assert len(approver.asked) == 1
    assert approver.asked[0][1].reason.startswith("no sandbox on this machine")


def test_read_only_commands_run_unasked(
    no_bwrap: Path, init_ctx: ToolContext, workspace: Path
) -> None:
    (workspace / "hello.txt").write_text("hello\n")
    result = run(BASH.run({"command": "cat hello.txt && ls"}, init_ctx))
    assert not result.is_error, result.text
    assert "hello" in result.text and "hello.txt" in result.text
    assert not result.data["sandboxed"]
    assert _asked(init_ctx) == []


def test_denied_stays_denied_unasked(no_bwrap: Path, ctx: ToolContext, workspace: Path) -> None:
    approver = Approver(True)
    ctx.confirm = approver
    result = run(BASH.run({"command": "touch ran.txt && git push"}, ctx))
    assert result.is_error and "denied" in result.text
    assert approver.asked == [] and not (workspace / "ran.txt").exists()


def test_opt_out_runs_allowed_commands_unasked(
    no_bwrap: Path, init_ctx: ToolContext, workspace: Path
) -> None:
    (workspace / ".plangate").mkdir()
    (workspace / ".plangate" / "config.toml").write_text('unsandboxed = "allow"\n')
    result = run(BASH.run({"command": "git init -q"}, init_ctx))
    assert not result.is_error, result.text
    assert (workspace / ".git" / "HEAD").exists() and not result.data["sandboxed"]
    assert _asked(init_ctx) == []


def test_opt_out_keeps_the_rules_asks(no_bwrap: Path, ctx: ToolContext, workspace: Path) -> None:
    (workspace / ".plangate").mkdir()
    (workspace / ".plangate" / "config.toml").write_text('unsandboxed = "allow"\n')
    approver = Approver(False)
    ctx.confirm = approver
    run(BASH.run({"command": "touch made.txt"}, ctx))  # the seed asks for it
    [(_, decision)] = approver.asked
    assert "no sandbox" not in decision.reason


@pytest.mark.parametrize(
    "config",
    ['unsandboxed = "yes"', "unsandboxed = true", "unsandboxed = [", 'unsandboxed = "ask"'],
    ids=["typo", "boolean", "broken-toml", "explicit-ask"],
)
def test_anything_but_allow_asks(
    no_bwrap: Path, init_ctx: ToolContext, workspace: Path, config: str
) -> None:
    (workspace / ".plangate").mkdir()
    (workspace / ".plangate" / "config.toml").write_text(config + "\n")
    run(BASH.run({"command": "git init -q"}, init_ctx))
    assert len(_asked(init_ctx)) == 1
    assert not (workspace / ".git" / "HEAD").exists()


def test_bwrap_without_user_namespaces_is_no_sandbox(
    broken_bwrap: Path, init_ctx: ToolContext, workspace: Path
) -> None:
    machine = support(workspace)
    assert machine.bwrap == str(broken_bwrap) and not machine.usable
    assert machine.problem is not None and "No permissions to creating new namespace" in (
        machine.problem
    )
    result = run(BASH.run({"command": "git init -q"}, init_ctx))
    [(_, reason)] = _asked(init_ctx)
    assert "user namespaces" in reason and "No permissions" in reason
    assert result.is_error and not (workspace / ".git" / "HEAD").exists()
    # Approved, it runs without the broken bwrap instead of failing on it.
    init_ctx.confirm = Approver(True)
    result = run(BASH.run({"command": "git init -q"}, init_ctx))
    assert not result.is_error, result.text
    assert not result.data["sandboxed"] and (workspace / ".git" / "HEAD").exists()


def test_no_unprivileged_overlay_is_no_sandbox(
    bwrap: str, no_overlay: Path, init_ctx: ToolContext, workspace: Path
) -> None:
    """bwrap works but the copy-on-write workspace cannot be mounted: no sandbox, asked."""
    machine = support(workspace)
    assert not machine.usable and machine.problem is not None
    assert "copy-on-write workspace cannot be mounted" in machine.problem
    assert NO_OVERLAY in machine.problem
    result = run(BASH.run({"command": "git init -q"}, init_ctx))
    [(_, reason)] = _asked(init_ctx)
    assert reason.startswith("no sandbox on this machine: the copy-on-write workspace")
    assert result.is_error and not (workspace / ".git" / "HEAD").exists()
    found = _doctor(workspace)
    assert found["user namespaces"].startswith("usable")
    assert found["copy-on-write"].startswith("not usable: the copy-on-write workspace cannot")
    assert found["mode"] == "no sandbox: every command that is not read-only is asked"


def test_with_bwrap_allowed_commands_are_not_asked(
    bwrap: str, init_ctx: ToolContext, workspace: Path
) -> None:
    result = run(BASH.run({"command": "git init -q"}, init_ctx))
    assert not result.is_error, result.text
    assert result.data["sandboxed"] and (workspace / ".git" / "HEAD").exists()
    assert _asked(init_ctx) == []


# ---- plangate doctor ---------------------------------------------------------------------------

CHECKS = [
    "bubblewrap",
    "user namespaces",
    "copy-on-write",
    "network isolation",
    "setpriv",
    "git",
    "ripgrep",
    "unsandboxed",
    "mode",
]


def _doctor(workspace: Path) -> dict[str, str]:
    """`plangate doctor` as a process, in this test's environment: one finding per check."""
    done = subprocess.run(
        [sys.executable, "-m", "plangate.cli", "doctor", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == CHECKS, done.stdout
    return {check: line.split(":", 1)[1].strip() for check, line in zip(CHECKS, lines, strict=True)}


def test_doctor_on_this_machine(workspace: Path) -> None:
    found = _doctor(workspace)
    bwrap = shutil.which("bwrap")
    sandboxed = (
        bwrap is not None
        and subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--unshare-pid", "true"],
            capture_output=True,
            timeout=30,
            check=False,
        ).returncode
        == 0
    )
    if sandboxed:
        assert found["bubblewrap"].startswith(f"found: {bwrap} (bubblewrap ")
        assert found["user namespaces"].startswith("usable")
        assert found["copy-on-write"].startswith("usable: commands write to an overlay")
        assert found["mode"] == "commands run sandboxed"
    else:
        assert found["mode"] == "no sandbox: every command that is not read-only is asked"
    git = shutil.which("git")
    assert found["git"].startswith(f"found: {git} (git version" if git else "not found")
    setpriv = shutil.which("setpriv")
    if setpriv is not None and sys.platform.startswith("linux"):
        assert found["setpriv"].startswith(f"found: {setpriv} (")
    assert found["ripgrep"].startswith("found: ") and "ripgrep " in found["ripgrep"]
    assert found["unsandboxed"] == "ask: the default (no .plangate/config.toml)"


def test_doctor_without_bwrap(no_bwrap: Path, workspace: Path) -> None:
    found = _doctor(workspace)
    assert found["bubblewrap"] == "not found: install the bubblewrap package"
    assert found["user namespaces"].startswith("not checked: no bubblewrap")
    assert found["copy-on-write"] == "not checked: no bubblewrap"
    assert found["network isolation"] == "not possible: no sandbox"
    assert found["git"].startswith("found: ")  # linked into the PATH
    assert found["mode"] == "no sandbox: every command that is not read-only is asked"
    (workspace / ".plangate").mkdir()
    (workspace / ".plangate" / "config.toml").write_text('unsandboxed = "allow"\n')
    found = _doctor(workspace)
    assert found["unsandboxed"] == 'allow: `unsandboxed = "allow"` in .plangate/config.toml'
    assert found["mode"].startswith("no sandbox: commands the rules allow run unprotected")


def test_doctor_with_user_namespaces_off(broken_bwrap: Path, workspace: Path) -> None:
    found = _doctor(workspace)
    assert found["bubblewrap"].startswith(f"found: {broken_bwrap}")
    assert found["user namespaces"].startswith("not usable: bwrap cannot build a sandbox")
    assert "No permissions to creating new namespace" in found["user namespaces"]
    assert found["mode"] == "no sandbox: every command that is not read-only is asked"
