"""The bubblewrap sandbox for bash: what static analysis cannot see cannot change a denied file.

Inside: the whole file system read-only, a private /tmp, its own PID namespace, and the
workspace as a copy-on-write overlay (overlay.py): the command's writes, new files, renames and
deletions land in a layer of its own, and when it ends merge.py applies the ones the edit rules
allow and discards the rest, reporting each. An existing `.git` folder is bound read-only on top.
Network stays on unless the agent turns it off.

Where bubblewrap is missing or cannot build the sandbox (user namespaces disabled, no
unprivileged overlayfs), there is no silent fallback: the bash tool asks before every command
that is not read-only, with the reason, unless the workspace's `.plangate/config.toml` says
`unsandboxed = "allow"`.
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
from plangate.tools.overlay import Layer, Tools, layers_folder, new_layer, path_problem, tools

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 10  # seconds for bwrap to build an empty sandbox and run `true` in it
# What every sandbox has, before the workspace; the probe builds the same, so a machine where
# these flags fail (user namespaces off, /proc not mountable in a container) is found once,
# instead of every command failing on it.
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
    """How a command is wrapped: the argv prefix, whether it is really sandboxed, and the
    copy-on-write layer its changes land in (merged by the caller when it ends)."""

    prefix: tuple[str, ...]
    sandboxed: bool
    layer: Layer | None = None
    note: str = ""


@dataclass(frozen=True)
class Support:
    """What this machine gives: the bwrap found, the programs that mount the copy-on-write
    layer, and why commands cannot be sandboxed, if so."""

    bwrap: str | None
    problem: str | None = None
    mounter: Tools | None = None

    @property
    def usable(self) -> bool:
        """True when commands run sandboxed."""
        return self.problem is None and self.bwrap is not None and self.mounter is not None


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


def _bwrap_flags(bwrap: str, root: str) -> list[str]:
    """bwrap inside the overlay's user namespace, where PlanGate is root: a namespace of its
    own gives the command PlanGate's real user and group back."""
    ids = ["--uid", str(os.getuid()), "--gid", str(os.getgid())]
    return [bwrap, "--unshare-user", *ids, *BASE_FLAGS, "--bind", root, root]


@functools.cache
def probe_overlay(bwrap: str, mounter: Tools, folder: Path, device: int) -> str | None:
    """None when a copy-on-write layer mounts over a folder in `folder` with bwrap running
    inside, else why not. Cached per file system (`device`): whether overlayfs works depends on
    the kernel and on the file system, not on the folder."""
    del device  # only the cache key
    layer = new_layer(folder.parent.parent)
    lower = layer.folder / "lower"
    try:
        lower.mkdir()
        argv = [*layer.mount_prefix(lower, mounter), *_bwrap_flags(bwrap, str(lower)), "true"]
        done = subprocess.run(
            argv, capture_output=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the copy-on-write workspace could not be mounted: {exc}"
    finally:
        layer.remove()
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = lines[0] if lines else f"exit status {done.returncode}"
    return (
        "the copy-on-write workspace cannot be mounted here (unprivileged overlayfs needs "
        f"Linux 5.11 or later): {detail}"
    )


def support(workspace: Path) -> Support:
    """Whether commands in `workspace` can be sandboxed on this machine, and why not."""
    bwrap = bwrap_path()
    if bwrap is None:
        return Support(None, "bubblewrap (bwrap) is not installed")
    problem = probe(bwrap)
    if problem is not None:
        return Support(bwrap, problem)
    mounter = tools()
    problem = path_problem(workspace.resolve())
    if mounter is None or problem is not None:
        return Support(bwrap, problem or "`unshare`, `mount` or `sh` is not installed")
    folder = layers_folder(workspace.resolve())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        device = folder.stat().st_dev
    except OSError as exc:
        return Support(bwrap, f"cannot make {folder}: {exc}")
    return Support(bwrap, probe_overlay(bwrap, mounter, folder, device), mounter)


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


def sandbox_for(workspace: Path, cwd: Path, machine: Support, *, network: bool = True) -> Sandbox:
    """The prefix for a command run in `cwd` inside `workspace`, over a new copy-on-write
    layer, or an unsandboxed one with the reason when `machine` has no usable sandbox."""
    if machine.bwrap is None or machine.mounter is None or machine.problem is not None:
        note = f"the command ran without a sandbox: {machine.problem}"
        log.warning(note)
        return Sandbox((), False, note=note)
    root = workspace.resolve()
    layer = new_layer(root)
    argv = [*layer.mount_prefix(root, machine.mounter), *_bwrap_flags(machine.bwrap, str(root))]
    # The layers' folder is PlanGate's: the command sees it empty.
    argv += ["--tmpfs", str(layers_folder(root))]
    git = root / ".git"
    if git.is_dir() and not git.is_symlink():
        argv += ["--ro-bind", str(git), str(git)]
    if not network:
        argv.append("--unshare-net")
    argv += ["--chdir", str(cwd.resolve()), "--"]
    return Sandbox(tuple(argv), True, layer)
