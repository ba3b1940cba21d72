"""Apply what a command wrote in its copy-on-write layer: each change checked by the edit rules.

The layer's upper folder says everything the command did to the workspace (overlayfs):
- a file or symlink there is created or changed (a copy-up that only touched the mode or the
  time changes nothing here);
- a whiteout (a 0/0 character device, or a file marked `overlay.whiteout`) is a deletion;
- an opaque folder replaced the folder below it: what it does not hold was deleted;
- a renamed folder is a copy and a deletion (the mount has no redirects, so `mv` copies).

Each created, changed or deleted path is checked with the edit rules: a denied one is discarded
and reported, the rest are applied (a rename on the same file system). What cannot be applied
is discarded too, never half-done silently: an existing `.git` folder's content, a path
someone else changed while the command ran (its mtime is newer than the command's start), a
deletion of a folder that holds denied files (the allowed files go, the denied ones stay), a
socket or device, a symlink pointing at a denied path.

`exempt` names dependency folders (`node_modules`) the command may write although the rules
deny them: the project's own package manager installing (permissions/installs.py).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from plangate.permissions import Action, Policy

_XATTR = "user.overlay."
_GIT = "a `.git` folder that existed is read-only for commands"


@dataclass(frozen=True)
class Applied:
    """A path the command changed, as applied: sha256 before and after (None: no file)."""

    path: str  # workspace-relative, '/'-separated
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Discarded:
    """A change of the command that was not applied, and why."""

    path: str
    reason: str


@dataclass
class Merged:
    """What became of a command's changes."""

    applied: list[Applied] = field(default_factory=list)
    discarded: list[Discarded] = field(default_factory=list)

    def notes(self) -> list[str]:
        """Lines for the model: every discarded change, with the reason."""
        return [
            f"[PlanGate: discarded the command's change to {item.path}: {item.reason}]"
            for item in self.discarded
        ]


def _xattr(path: str, name: str) -> bytes | None:
    try:
        return os.getxattr(path, _XATTR + name, follow_symlinks=False)
    except OSError:
        return None


def _is_whiteout(path: str, info: os.stat_result) -> bool:
    if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
        return True
    return stat.S_ISREG(info.st_mode) and _xattr(path, "whiteout") is not None


def _hash(path: str) -> str | None:
    """What `path` holds, hashed as the checkpoint store hashes it (`content_hash`)."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(info.st_mode):
        return hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest()
    if stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    return f"not a file ({stat.filemode(info.st_mode)})"


class _Merge:
    def __init__(
        self,
        upper: Path,
        workspace: Path,
        check: Callable[[str], str | None],
        started_ns: int,
    ) -> None:
        self.upper = str(upper)
        self.root = str(workspace)
        self.check = check
        self.started_ns = started_ns
        self.result = Merged()
        self.made: set[str] = set()  # folders this merge made: new, not the workspace's

    def lower(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def discard(self, rel: str, reason: str) -> None:
        self.result.discarded.append(Discarded(rel, reason))

    def refusal(self, rel: str) -> str | None:
        """Why a change at `rel` may not be applied, or None."""
        parts = rel.split("/")
        for index, part in enumerate(parts[:-1]):
            if part == ".git" and self.existing_git("/".join(parts[: index + 1])):
                return _GIT
        return self.check(rel)

    def existing_git(self, rel: str) -> bool:
        """True for a `.git` folder that was there before the command: never changed by one."""
        name = rel.rsplit("/", 1)[-1]
        return name == ".git" and rel not in self.made and os.path.isdir(self.lower(rel))

    def changed_meanwhile(self, rel: str) -> bool:
        try:
            return os.lstat(self.lower(rel)).st_mtime_ns >= self.started_ns
        except OSError:
            return False

    # ------------------------------------------------------------------ the walk

    def folder(self, rel: str, opaque: bool = False) -> None:
        """Apply an upper folder's entries (`rel` is "" for the workspace itself). Opaque: it,
        or a folder it is in, replaced the workspace's folder, whose other entries are gone."""
        upper = os.path.join(self.upper, rel)
        entries = sorted(os.scandir(upper), key=lambda e: e.name)
        opaque = opaque or (bool(rel) and _xattr(upper, "opaque") == b"y")
        if opaque:
            kept = {entry.name for entry in entries}
            lower = self.lower(rel)
            if os.path.isdir(lower) and not os.path.islink(lower):
                for name in sorted(os.listdir(lower)):
                    if name not in kept:
                        self.delete(f"{rel}/{name}")
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            info = entry.stat(follow_symlinks=False)
            if _is_whiteout(entry.path, info):
                self.delete(child)
            elif stat.S_ISDIR(info.st_mode):
                self.enter(child, info, opaque)
            elif stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                self.write(child, entry.path, info)
            else:
                self.discard(child, f"a {stat.filemode(info.st_mode)[0]!r} special file")

    def enter(self, rel: str, info: os.stat_result, opaque: bool) -> None:
        """A folder in the upper layer: made in the workspace if new, then its entries."""
        if self.existing_git(rel):
            self.discard(rel, _GIT)
            return
        lower = self.lower(rel)
        replaces_file = os.path.lexists(lower) and (
            os.path.islink(lower) or not os.path.isdir(lower)
        )
        if replaces_file and not self.delete(rel):
            self.discard(rel, "a folder cannot replace a file that stays")
            return
        if not os.path.isdir(lower):
            reason = self.refusal(rel + "/_")
            if reason is not None and not self.anything_allowed(rel):
                self.discard(rel, reason)
                return
            os.mkdir(lower, stat.S_IMODE(info.st_mode))
            self.made.add(rel)
        self.folder(rel, opaque)

    def anything_allowed(self, rel: str) -> bool:
        """True when some file under the new upper folder `rel` may be applied."""
        for current, _folders, files in os.walk(os.path.join(self.upper, rel)):
            base = os.path.relpath(current, self.upper).replace(os.sep, "/")
            if any(self.refusal(f"{base}/{name}") is None for name in files):
                return True
        return False

    def write(self, rel: str, source: str, info: os.stat_result) -> None:
        """A file or symlink created or changed by the command."""
        lower = self.lower(rel)
        try:
            old = os.lstat(lower)
        except (FileNotFoundError, NotADirectoryError):
            old = None
        if _unchanged(lower, source, old, info):
            return  # copied up for its time, or a mode set back: nothing changed
        reason = self.refusal(rel) or self.link_refusal(rel, source, info)
        if reason is None and old is not None and self.changed_meanwhile(rel):
            reason = "the file changed while the command ran (kept as it is now)"
        if reason is not None:
            self.discard(rel, reason)
            return
        if old is not None and stat.S_ISDIR(old.st_mode) and not self.delete(rel):
            self.discard(rel, "a file cannot replace a folder holding files that stay")
            return
        before = _hash(lower) if old is not None else None
        _place(source, lower)
        self.result.applied.append(Applied(rel, before, _hash(lower)))

    def link_refusal(self, rel: str, source: str, info: os.stat_result) -> str | None:
        """A new symlink is refused when it points at a path the command may not change."""
        if not stat.S_ISLNK(info.st_mode):
            return None
        target = os.path.normpath(os.path.join(os.path.dirname(rel), os.readlink(source)))
        if os.path.isabs(target) or target.startswith(".."):
            absolute = os.path.normpath(os.path.join(self.root, target))
            if not absolute.startswith(self.root + os.sep):
                return None  # outside the workspace: the edit rules there are the tools'
            target = os.path.relpath(absolute, self.root)
        reason = self.refusal(target.replace(os.sep, "/"))
        return None if reason is None else f"a link to {target}, which {reason}"

    def delete(self, rel: str) -> bool:
        """Delete `rel` from the workspace, all of it that may be; True if nothing stayed."""
        lower = self.lower(rel)
        try:
            old = os.lstat(lower)
        except (FileNotFoundError, NotADirectoryError):
            return True
        if not stat.S_ISDIR(old.st_mode):
            reason = self.refusal(rel)
            if reason is None and self.changed_meanwhile(rel):
                reason = "the file changed while the command ran (kept as it is now)"
            if reason is not None:
                self.discard(rel, f"not deleted: {reason}")
                return False
            before = _hash(lower)
            os.unlink(lower)
            self.result.applied.append(Applied(rel, before, None))
            return True
        if self.existing_git(rel):
            self.discard(rel, f"not deleted: {_GIT}")
            return False
        emptied = all([self.delete(f"{rel}/{name}") for name in sorted(os.listdir(lower))])
        if emptied:
            os.rmdir(lower)
        return emptied


def _unchanged(a: str, b: str, info_a: os.stat_result | None, info_b: os.stat_result) -> bool:
    """True when regular files `a` and `b` have the same mode and bytes."""
    if info_a is None or not (stat.S_ISREG(info_a.st_mode) and stat.S_ISREG(info_b.st_mode)):
        return False
    if info_a.st_mode != info_b.st_mode or info_a.st_size != info_b.st_size:
        return False
    with open(a, "rb") as first, open(b, "rb") as second:
        while True:
            block = first.read(1 << 20)
            if block != second.read(1 << 20):
                return False
            if not block:
                return True


def _place(source: str, target: str) -> None:
    """Move `source` to `target` atomically: a rename, or a copy where the file systems differ."""
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        temporary = f"{target}.plangate-{os.getpid()}"
        if os.path.islink(source):
            os.symlink(os.readlink(source), temporary)
        else:
            shutil.copy2(source, temporary)
        os.replace(temporary, target)


def merge(
    upper: Path,
    workspace: Path,
    policy: Policy,
    *,
    started_ns: int,
    exempt: frozenset[str] = frozenset(),
) -> Merged:
    """Apply the changes in `upper` to `workspace` that the edit rules allow; see the module."""

    def check(rel: str) -> str | None:
        if exempt and exempt & set(rel.split("/")[:-1]):
            return None
        decision = policy.check_edit(rel, str(workspace))
        return decision.reason if decision.action is Action.DENY else None

    run = _Merge(upper, workspace, check, started_ns)
    run.folder("")
    return run.result
