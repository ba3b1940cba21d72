"""The bubblewrap sandbox for bash: what static analysis cannot see cannot write a denied file.

Inside: the whole file system read-only, the workspace writable, every existing file or folder
the edit rules deny and every `.git` folder bound read-only on top, a private /tmp. Network stays
on unless the agent turns it off. Files that do not exist yet cannot be protected by a mount:
the permission engine's static checks are the guard for those.

Where bubblewrap is missing or cannot build the sandbox (user namespaces disabled), there is no
silent fallback: the bash tool asks before every command that is not read-only, with the reason,
unless the workspace's `.plangate/config.toml` says `unsandboxed = "allow"`.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from plangate.layout import Layout
from plangate.permissions import Action, Policy

log = logging.getLogger(__name__)

MAX_SCAN = 200_000  # entries visited looking for protected paths
PROBE_TIMEOUT = 10  # seconds for bwrap to build an empty sandbox and run `true` in it
# What every sandbox has, before the workspace and the protected paths; the probe builds the
# same, so a machine where these flags fail (user namespaces off, /proc not mountable in a
# container) is found once, instead of every command failing on it.
BASE_FLAGS = (
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
)
CONFIG_KEY = "unsandboxed"


@dataclass(frozen=True)
class Sandbox:
    """How a command is wrapped: the argv prefix, and whether it is really sandboxed."""

    prefix: tuple[str, ...]
    sandboxed: bool
    protected: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Support:
    """What this machine gives: the bwrap found, and why commands cannot be sandboxed, if so."""

    bwrap: str | None
    problem: str | None = None

    @property
    def usable(self) -> bool:
        """True when commands run sandboxed."""
        return self.problem is None


class Unsandboxed(StrEnum):
    """What happens to a command that is not read-only where there is no sandbox."""

    ASK = "ask"  # the default: the user is asked, with the reason
    ALLOW = "allow"  # the user's opt-out: it runs unasked when the rules allow it


def bwrap_path() -> str | None:
    """The bubblewrap binary, if installed."""
    return shutil.which("bwrap")


@functools.cache
def probe(bwrap: str, *, network: bool = True) -> str | None:
    """None when `bwrap` builds the sandbox commands get (`network=False`: without network as
    well), else why not, with bwrap's own message.

    Cached per binary: it costs a process start, and user namespaces do not come and go while
    PlanGate runs; a bwrap installed later has another path or is found by the next call."""
    argv = [bwrap, *BASE_FLAGS, *([] if network else ["--unshare-net"]), "true"]
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} could not be run: {exc}"
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = lines[-1] if lines else f"exit status {done.returncode}"
    return f"bwrap cannot build a sandbox here (are user namespaces disabled?): {detail}"


def support() -> Support:
    """Whether commands can be sandboxed on this machine, and why not."""
    bwrap = bwrap_path()
    if bwrap is None:
        return Support(None, "bubblewrap (bwrap) is not installed")
    return Support(bwrap, probe(bwrap))


def unsandboxed_setting(workspace: Path) -> tuple[Unsandboxed, str]:
    """The workspace's choice for commands without a sandbox, and a sentence saying where it
    comes from. Anything but `unsandboxed = "allow"` (a typo, a file that does not parse) asks:
    only a clear opt-out turns the question off."""
    path = Layout(workspace).config
    where = f"{path.parent.name}/{path.name}"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Unsandboxed.ASK, f"the default (no {where})"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Unsandboxed.ASK, f"{where} could not be read ({exc}), so the default"
    value = config.get(CONFIG_KEY)
    if value is None:
        return Unsandboxed.ASK, f"the default (no `{CONFIG_KEY}` in {where})"
    if value in (Unsandboxed.ASK.value, Unsandboxed.ALLOW.value):
        return Unsandboxed(value), f'`{CONFIG_KEY} = "{value}"` in {where}'
    return Unsandboxed.ASK, (
        f'`{CONFIG_KEY} = {value!r}` in {where} is neither "ask" nor "allow", so the default'
    )


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


def sandbox_for(
    workspace: Path, policy: Policy, cwd: Path, machine: Support, *, network: bool = True
) -> Sandbox:
    """The bwrap prefix for a command run in `cwd` inside `workspace`, or an unsandboxed one
    with the reason when `machine` has no usable sandbox."""
    if machine.bwrap is None or machine.problem is not None:
        note = f"the command ran without a sandbox: {machine.problem}"
        log.warning(note)
        return Sandbox((), False, note=note)
    root = str(workspace.resolve())
    protected = [str(p) for p in protected_paths(workspace.resolve(), policy)]
    argv = [machine.bwrap, *BASE_FLAGS, "--bind", root, root]
    for path in protected:
        argv += ["--ro-bind", path, path]
    if not network:
        argv.append("--unshare-net")
    argv += ["--chdir", str(cwd.resolve()), "--"]
    return Sandbox(tuple(argv), True, tuple(protected))
