"""Workspace checkpoints: snapshots the user can roll a phase of work back to.

Like the shadow repositories of opencode and Cline, snapshots live in a separate bare git
repository (by default `.plangate/checkpoints`) whose work tree is the workspace, so the
project's own `.git` is never read or written. The `git` CLI does the work.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from plangate.layout import STATE_DIR, Layout

GIT_TIMEOUT = 60
BRANCH = "checkpoints"

# Never snapshotted, restored or deleted, at any depth. Dotenv files are the secrets the read
# rules guard (permissions.policy): a copy in the store would put them in `.plangate/`, which
# holds no secret, and keep them there after the user rotated them; the examples are no secret.
EXCLUDES = (
    ".git",
    f"{STATE_DIR}/",
    "node_modules/",
    ".venv/",
    "__pycache__/",
    ".env",
    ".env.*",
    "!.env.example",
    "!.env.sample",
    "!.env.template",
)

# The project's .gitattributes must not rewrite bytes (eol conversion, filters): a snapshot
# stores files exactly as they are and a restore writes them back exactly. info/attributes
# outranks every .gitattributes in the work tree.
_ATTRIBUTES = "* -text -filter -ident -working-tree-encoding\n"

# On every call: no hooks, fsmonitor daemons, signing prompts or line-ending rewrites.
_CONFIG = [
    arg
    for setting in (
        "core.hooksPath=/dev/null",
        "core.fsmonitor=false",
        "commit.gpgsign=false",
        "core.autocrlf=false",
        "user.name=PlanGate",
        "user.email=plangate@localhost",
    )
    for arg in ("-c", setting)
]

_COMMIT_ID = re.compile(r"[0-9a-f]{4,64}")


class CheckpointError(Exception):
    """A checkpoint operation failed; the message carries git's error output."""


class Checkpoints:
    """Snapshots of one workspace, kept in a shadow git repository."""

    def __init__(self, workspace: Path, store: Path | None = None) -> None:
        """Checkpoints of `workspace`, stored in the bare git directory `store`."""
        self.workspace = workspace.resolve()
        self.store = (store or Layout(self.workspace).checkpoints).resolve()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's lock: sessions and servers on one workspace take turns, where git
        alone fails with `index.lock: File exists` or `cannot lock ref 'HEAD'`, and two
        `git init`s race. A file lock, so it holds across processes too."""
        self.store.parent.mkdir(parents=True, exist_ok=True)
        with open(self.store.parent / f"{self.store.name}.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def snapshot(self, label: str) -> str:
        """Record every non-excluded file of the workspace; return the new commit id."""
        with self._locked():
            return self._snapshot(label)

    def _snapshot(self, label: str) -> str:
        self._ensure_store()
        tree = self._write_tree()
        head = self._git("rev-parse", "--verify", "-q", "HEAD", check=False).strip()
        parent = ["-p", head] if head else []
        # commit-tree instead of `git commit`: no hooks, no editor, and an unchanged
        # workspace simply gives a commit with the same tree as its parent.
        commit = self._git("commit-tree", tree, *parent, stdin=label).strip()
        self._git("update-ref", "-m", "checkpoint", "HEAD", commit, *([head] if head else []))
        return commit

    def changed_since(self, checkpoint: str) -> builtins.list[str]:
        """Workspace-relative paths modified, added or deleted since `checkpoint`, sorted."""
        return sorted(path for _, path in self._diff(self._resolve(checkpoint)))

    def restore(self, checkpoint: str) -> builtins.list[str]:
        """Put the workspace back as it was at `checkpoint`; return the sorted paths changed."""
        with self._locked():
            return self._restore(checkpoint)

    def _restore(self, checkpoint: str) -> builtins.list[str]:
        commit = self._resolve(checkpoint)
        changes = self._diff(commit)
        added = {path for status, path in changes if status == "A"}
        wanted = [path for status, path in changes if status != "A"]
        self._check_not_blocked(wanted, added)
        for path in sorted(added):
            target = self.workspace / path
            target.unlink(missing_ok=True)
            self._prune_empty_parents(target.parent)
        if wanted:
            with self._scratch_index() as index:
                self._git("read-tree", commit, index=index)
                self._git("checkout-index", "-f", "-z", "--stdin", index=index, stdin=_z(wanted))
        return sorted(path for _, path in changes)

    def list(self) -> builtins.list[tuple[str, str]]:
        """All checkpoints as (commit id, label), newest first."""
        if not (self.store / "HEAD").exists():
            return []
        if not self._git("rev-parse", "--verify", "-q", "HEAD", check=False).strip():
            return []
        fields = self._git("log", "-z", "--format=%H%x00%B", "HEAD").split("\0")[:-1]
        return list(zip(fields[0::2], fields[1::2], strict=True))

    def _ensure_store(self) -> None:
        if (self.store / "HEAD").exists():
            return
        self.store.mkdir(parents=True, exist_ok=True)
        self._git("init", "--bare", "-q", f"--initial-branch={BRANCH}", work_tree=False)
        (self.store / "info").mkdir(exist_ok=True)
        (self.store / "info" / "exclude").write_text("\n".join(self._excludes()) + "\n")
        (self.store / "info" / "attributes").write_text(_ATTRIBUTES)

    def _excludes(self) -> builtins.list[str]:
        excludes = list(EXCLUDES)
        # A store placed elsewhere inside the workspace must not snapshot itself.
        if self.store.is_relative_to(self.workspace) and self.store != self.workspace:
            excludes.append(f"/{self.store.relative_to(self.workspace).as_posix()}/")
        return excludes

    def _resolve(self, checkpoint: str) -> str:
        # Only hex ids: anything else could be read by git as an option or a ref name.
        if _COMMIT_ID.fullmatch(checkpoint) and (self.store / "HEAD").exists():
            commit = self._git(
                "rev-parse", "--verify", "-q", f"{checkpoint}^{{commit}}", check=False
            )
            if commit.strip():
                return commit.strip()
        raise CheckpointError(f"unknown checkpoint: {checkpoint!r}")

    def _diff(self, commit: str) -> builtins.list[tuple[str, str]]:
        """(status, path) of every difference from `commit` to the workspace now."""
        tree = self._write_tree()
        out = self._git("diff-tree", "-r", "-z", "--no-renames", "--name-status", commit, tree)
        fields = out.split("\0")[:-1]
        return list(zip(fields[0::2], fields[1::2], strict=True))

    def _write_tree(self) -> str:
        """Stage the workspace's current files in the store's index; return their tree id."""
        files = self._files("")
        # The store's own index persists between calls as a stat cache, so unchanged files
        # are not hashed again; entries for files gone (or now ignored) are dropped first.
        stale = set(self._git("ls-files", "-z").split("\0")[:-1]) - set(files)
        if stale:
            self._git("update-index", "--force-remove", "-z", "--stdin", stdin=_z(stale))
        if files:
            self._git("update-index", "--add", "-z", "--stdin", stdin=_z(files))
        return self._git("write-tree").strip()

    def _files(self, subdir: str) -> builtins.list[str]:
        """Non-ignored files under `subdir`, including the files of nested repositories."""
        excludes = [f"--exclude={pattern}" for pattern in self._excludes()]
        with self._scratch_index() as empty:
            # An empty index makes every file "untracked"; the exclusions also go on the
            # command line because there they outrank a project's `!pattern` re-inclusion.
            out = self._git(
                "ls-files",
                "-z",
                "--others",
                "--exclude-standard",
                *excludes,
                index=empty,
                work_tree=self.workspace / subdir,
            )
        files: builtins.list[str] = []
        for entry in out.split("\0")[:-1]:
            path = subdir + entry
            # git lists a nested repository as one folder; its working files are part of
            # the workspace too, so list them with it as the work tree (its .git never is).
            files.extend(self._files(path) if entry.endswith("/") else [path])
        return files

    def _check_not_blocked(self, wanted: builtins.list[str], added: set[str]) -> None:
        # checkout-index -f would wipe whatever sits where a file must go back, including
        # ignored or excluded files: refuse before changing anything instead.
        for path in wanted:
            parts = Path(path).parts
            for depth in range(1, len(parts) + 1):
                rel = "/".join(parts[:depth])
                target = self.workspace / rel
                if rel in added or not os.path.lexists(target):
                    break  # nothing will be left at or below this point
                real_dir = target.is_dir() and not target.is_symlink()
                if depth < len(parts) and not real_dir:
                    raise CheckpointError(f"cannot restore {path}: {rel} is in the way")
                if depth == len(parts) and real_dir and self._holds_kept_files(target, added):
                    raise CheckpointError(f"cannot restore {path}: folder {rel} is not empty")

    def _holds_kept_files(self, folder: Path, added: set[str]) -> bool:
        for root, dirs, names in os.walk(folder):
            for entry in (Path(root) / name for name in [*dirs, *names]):
                # Real folders go once emptied; anything else not being deleted must stay.
                real_dir = entry.is_dir() and not entry.is_symlink()
                if not real_dir and entry.relative_to(self.workspace).as_posix() not in added:
                    return True
        return False

    def _prune_empty_parents(self, folder: Path) -> None:
        while folder != self.workspace and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    def _scratch_index(self) -> tempfile.TemporaryDirectory[str]:
        # The folder, not a file: git must create the index itself.
        return tempfile.TemporaryDirectory(prefix="index-", dir=self.store)

    def _git(
        self,
        *args: str,
        stdin: str | None = None,
        index: str | None = None,
        work_tree: Path | bool = True,
        check: bool = True,
    ) -> str:
        """Run git on the store and return its output; raise CheckpointError on failure.

        `work_tree` is the workspace unless given; False runs without one (only `init`,
        which refuses a work tree for a bare repository).
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.pop("XDG_CONFIG_HOME", None)
        # Only the store's own config counts: no system, global or XDG config of the user.
        env.update(
            GIT_DIR=str(self.store),
            HOME=str(self.store),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_TERMINAL_PROMPT="0",
            GIT_PAGER="cat",
            PAGER="cat",
        )
        cwd = self.store
        if work_tree:
            # From the top of the work tree: git reports paths relative to its cwd.
            cwd = self.workspace if work_tree is True else work_tree
            env["GIT_WORK_TREE"] = str(cwd)
        if index is not None:
            env["GIT_INDEX_FILE"] = str(Path(index) / "index")
        command = ["git", "--no-pager", *_CONFIG, *args]
        try:
            done = subprocess.run(
                command,
                input=os.fsencode(stdin) if stdin is not None else None,
                capture_output=True,
                env=env,
                cwd=cwd,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CheckpointError(f"git {args[0]}: {exc}") from exc
        if check and done.returncode != 0:
            message = os.fsdecode(done.stderr).strip()
            raise CheckpointError(f"git {args[0]} failed: {message}")
        return os.fsdecode(done.stdout)


def _z(paths: builtins.list[str] | set[str]) -> str:
    """Paths as git's NUL-terminated `-z --stdin` input."""
    return "".join(f"{path}\0" for path in sorted(paths))
