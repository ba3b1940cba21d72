"""The copy-on-write workspace: a command writes to a layer of its own, never to the workspace.

Each sandboxed command runs over an overlay mount of the workspace (Linux overlayfs, mounted in
an unprivileged user namespace, Linux 5.11 or later: `overlay_exec.c`, or without a C compiler
`unshare -Urm` running `mount -t overlay`, then bwrap). What it creates, changes, renames or
deletes lands in the layer's upper folder; when it ends, `merge.py` checks each change against
the edit rules and applies the allowed ones. Nothing is scanned before a command, so its cost
does not grow with the workspace.

The layer's folders live in `.plangate/overlay/` (the workspace's own file system, so applying a
change is a rename), hidden from the command by an empty tmpfs. A layer left by a PlanGate that
died is removed by the next one: the command never finished, and none of it was applied.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from plangate.layout import Layout
from plangate.tools.native import compiled

# userxattr: the only way an unprivileged mount may keep its whiteouts and opaque folders;
# metacopy off: an upper file always holds its whole content, so what is read there is true.
OPTIONS = "userxattr,metacopy=off"
# Run by `sh` inside the new namespaces: mount the overlay, then become bwrap.
MOUNT_SCRIPT = '"$1" -t overlay plangate -o "$2" "$3" && shift 3 && exec "$@"'
# Characters that overlayfs reads as separators in its options: such a path cannot be a layer.
_SPECIAL = frozenset(",:\\")


@dataclass(frozen=True)
class Layer:
    """One command's writable layer: its upper folder (what the command changed) and the work
    folder overlayfs needs, on the workspace's file system."""

    folder: Path

    @property
    def upper(self) -> Path:
        """Everything the command wrote, and the whiteouts of what it deleted."""
        return self.folder / "upper"

    @property
    def work(self) -> Path:
        """overlayfs's own scratch folder."""
        return self.folder / "work"

    def mount_prefix(self, workspace: Path, tools: Tools) -> tuple[str, ...]:
        """The argv prefix that mounts the layer over `workspace` in new user and mount
        namespaces and then runs what follows (bwrap)."""
        options = f"lowerdir={workspace},upperdir={self.upper},workdir={self.work},{OPTIONS}"
        if tools.helper is not None:
            return (tools.helper, options, str(workspace))
        script = (tools.sh, "-c", MOUNT_SCRIPT, "sh", tools.mount, options, str(workspace))
        return (tools.unshare, "-Urm", *script)

    def remove(self) -> None:
        """Delete the layer's folders (overlayfs leaves its work folder unreadable)."""
        with contextlib.suppress(OSError):
            os.chmod(self.work / "work", 0o700)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True)
class Tools:
    """The programs that mount a layer."""

    unshare: str
    mount: str
    sh: str
    # overlay_exec.c built: the same in one process instead of four (3 ms less a command).
    helper: str | None = None


def tools() -> Tools | None:
    """util-linux's `unshare` and `mount`, and a POSIX `sh`, if all are installed, and the
    compiled helper where there is a C compiler."""
    unshare, mount, sh = shutil.which("unshare"), shutil.which("mount"), shutil.which("sh")
    if unshare is None or mount is None or sh is None:
        return None
    return Tools(unshare, mount, sh, compiled("overlay_exec.c"))


def layers_folder(workspace: Path) -> Path:
    """Where a workspace's layers are made."""
    return Layout(workspace).root / "overlay"


def new_layer(workspace: Path) -> Layer:
    """A fresh, empty layer for one command; layers of PlanGates that died are removed."""
    root = layers_folder(workspace)
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(root)
    layer = Layer(root / f"{os.getpid()}-{uuid.uuid4().hex[:12]}")
    layer.upper.mkdir(parents=True)
    layer.work.mkdir()
    return layer


def _remove_abandoned(root: Path) -> None:
    for entry in os.scandir(root):
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            Layer(Path(entry.path)).remove()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    return True


def path_problem(workspace: Path) -> str | None:
    """Why `workspace` cannot be an overlay's lower folder, or None."""
    if _SPECIAL & set(str(workspace)):
        return f"the workspace path {workspace} has ',', ':' or '\\', which overlayfs cannot take"
    return None
