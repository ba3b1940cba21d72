"""Proposed changes to files, and applying them atomically.

Write and edit never touch the disk: they return a `ProposedChange`. The front door (editor,
terminal, tests) shows it and, when the user agrees, calls `apply_change`, which writes through
a temporary file in the same folder, fsyncs and renames, so a crash leaves the old file or the
new one, never a mix. It refuses when the file changed since the proposal.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
import tempfile
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

from plangate.permissions import Action, Decision, Policy
from plangate.tools.ledger import FileStamp


class ChangeKind(StrEnum):
    """What a change does to the file system."""

    CREATE = "create"
    MODIFY = "modify"
    DELETE = "delete"
    RENAME = "rename"


class ProposedChange(BaseModel):
    """A change the agent wants to make, for the user to apply or reject."""

    kind: ChangeKind
    path: str  # workspace-relative
    new_path: str | None = None  # for renames
    old_text: str | None = None
    new_text: str | None = None  # exactly what will be written (original line endings)
    diff: str
    decision: Decision
    # Whether the path is among the files the current phase declared; None outside a phase.
    in_phase: bool | None = None
    # The file as it was when the change was proposed; None for a file that did not exist.
    base: FileStamp | None = None


class ApplyError(Exception):
    """The change cannot be applied (changed since, denied, or an I/O failure)."""


class Drift(StrEnum):
    """Where a file stands against a proposed change, before the change is shown."""

    NONE = "none"  # still as it was when the change was proposed
    APPLIED = "applied"  # already holds the change (applied before a crash, or by the editor)
    CHANGED = "changed"  # someone else changed it: the change's ranges no longer fit


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def drift(change: ProposedChange, workspace: Path) -> Drift:
    """Compare the file on disk with the change's base and with its result, by content.

    Checked before a change is shown: a preview computed against other text would land its
    ranges on the wrong lines, and one applied already would be applied twice."""
    target = (workspace / change.path).resolve()
    current = FileStamp.of(target) if not target.is_dir() else None
    now = current.sha256 if current is not None else None
    base = change.base.sha256 if change.base is not None else None
    if change.kind is ChangeKind.RENAME:
        moved = FileStamp.of((workspace / (change.new_path or change.path)).resolve())
        if now is None and moved is not None and moved.sha256 == base:
            return Drift.APPLIED
    elif change.kind is ChangeKind.DELETE:
        if now is None:
            return Drift.APPLIED
    elif change.new_text is not None and now == _sha(change.new_text):
        return Drift.APPLIED
    return Drift.NONE if now == base else Drift.CHANGED


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    """A unified diff between two texts, line endings normalised for display."""
    old_lines = (old or "").replace("\r\n", "\n").splitlines(keepends=True)
    new_lines = (new or "").replace("\r\n", "\n").splitlines(keepends=True)
    fromfile = f"a/{path}" if old is not None else "/dev/null"
    tofile = f"b/{path}" if new is not None else "/dev/null"
    lines = difflib.unified_diff(old_lines, new_lines, fromfile, tofile)
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int | None) -> None:
    """Write `data` to `path` through a temp file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".plangate")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def apply_change(change: ProposedChange, workspace: Path, policy: Policy | None = None) -> Path:
    """Apply `change` in `workspace`; returns the path written (or removed).

    Refused when the permission engine now denies it (symlinks can change after the proposal),
    when it or a rename's destination resolves outside the workspace, when the file changed
    since the proposal, or when a new file already exists.
    """
    target = (workspace / change.path).resolve()
    decisions = [change.decision]
    if policy is not None:
        decisions.append(policy.check_edit(str(workspace / change.path)))
        if change.new_path is not None:
            decisions.append(policy.check_edit(str(workspace / change.new_path)))
    for decision in decisions:
        if decision.action is Action.DENY:
            raise ApplyError(f"refused: {decision.reason}")
    # A rename writes its destination: it must resolve inside too, symlinked parents followed,
    # and it is resolved once, here, so the path checked is the path written.
    destination = None if change.new_path is None else (workspace / change.new_path).resolve()
    for shown, resolved in ((change.path, target), (change.new_path, destination)):
        if resolved is not None and not resolved.is_relative_to(workspace.resolve()):
            raise ApplyError(f"refused: {shown} resolves outside the workspace")
    current = FileStamp.of(target) if not target.is_dir() else None
    if change.base != current:
        what = "was created" if change.base is None else "changed or was removed"
        raise ApplyError(f"{change.path} {what} since the change was proposed; propose it again")
    try:
        if change.kind is ChangeKind.DELETE:
            target.unlink()
            _fsync_dir(target.parent)
            return target
        if change.kind is ChangeKind.RENAME:
            assert destination is not None
            if destination.exists():
                raise ApplyError(f"{change.new_path} already exists")
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, destination)
            _fsync_dir(destination.parent)
            return destination
        assert change.new_text is not None
        mode = stat.S_IMODE(target.stat().st_mode) if current is not None else None
        atomic_write(target, change.new_text.encode("utf-8"), mode)
        return target
    except OSError as exc:
        raise ApplyError(f"could not apply the change to {change.path}: {exc}") from exc


def apply_once(change: ProposedChange, workspace: Path, policy: Policy | None = None) -> Path:
    """`apply_change`, unless the file already holds the change (`drift`): written before a
    crash, or by the editor when the user applied its preview; a delete or rename already
    done counts too."""
    if drift(change, workspace) is Drift.APPLIED:
        where = change.new_path if change.kind is ChangeKind.RENAME else None
        return (workspace / (where or change.path)).resolve()
    return apply_change(change, workspace, policy)
