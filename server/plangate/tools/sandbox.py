"""The bubblewrap sandbox for bash: what static analysis cannot see cannot write a denied file.

Inside: the whole file system read-only, the workspace writable, every existing file or folder
the edit rules deny and every `.git` folder bound read-only on top, a private /tmp. Network stays
on unless the agent turns it off. Files that do not exist yet cannot be protected by a mount:
the permission engine's static checks are the guard for those.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from plangate.permissions import Action, Policy

log = logging.getLogger(__name__)

MAX_SCAN = 200_000  # entries visited looking for protected paths


@dataclass(frozen=True)
class Sandbox:
    """How a command is wrapped: the argv prefix, and whether it is really sandboxed."""

    prefix: tuple[str, ...]
    sandboxed: bool
    protected: tuple[str, ...] = ()
    note: str = ""


def bwrap_path() -> str | None:
    """The bubblewrap binary, if installed."""
    return shutil.which("bwrap")


def protected_paths(workspace: Path, policy: Policy) -> list[Path]:
    """Existing paths in the workspace to mount read-only: denied ones and `.git` folders."""
    found: list[Path] = []
    stack = [workspace]
    visited = 0
    while stack and visited < MAX_SCAN:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            visited += 1
            path = Path(entry.path)
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir and entry.name == ".git":
                found.append(path)
                continue
            probe = f"{path}/_" if is_dir else str(path)
            if policy.check_edit(probe).action is Action.DENY:
                found.append(path)
                continue
            if is_dir:
                stack.append(path)
    return found


def sandbox_for(workspace: Path, policy: Policy, cwd: Path, *, network: bool = True) -> Sandbox:
    """The bwrap prefix for a command run in `cwd` inside `workspace`, or an unsandboxed one
    with the reason."""
    bwrap = bwrap_path()
    if bwrap is None:
        note = "bubblewrap (bwrap) is not installed: the command ran without a sandbox"
        log.warning(note)
        return Sandbox((), False, note=note)
    root = str(workspace.resolve())
    protected = [str(p) for p in protected_paths(workspace.resolve(), policy)]
    argv = [
        bwrap,
        "--die-with-parent",
        "--unshare-pid",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--bind",
        root,
        root,
    ]
    for path in protected:
        argv += ["--ro-bind", path, path]
    if not network:
        argv.append("--unshare-net")
    argv += ["--chdir", str(cwd.resolve()), "--"]
    return Sandbox(tuple(argv), True, tuple(protected))
