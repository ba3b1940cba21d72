"""Workspace checkpoints: snapshots the user can roll a phase of work back to.

Like the shadow repositories of opencode and Cline, snapshots live in a separate bare git
repository (by default `.plangate/checkpoints`) whose work tree is the workspace, so the
project's own `.git` is never written (`project.project_head` only reads where it stands). The `git`
CLI does the work. Besides whole snapshots, the store tells what changed between two moments
(`tree`, `changes`), which is how a session knows what the agent's own commands changed, and
restores chosen paths only (`restore_paths`), which is how a rollback leaves the user's work be.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import hashlib
import os
import re
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

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
_GITLINK = "160000"


class CheckpointError(Exception):
    """A checkpoint operation failed; the message carries git's error output."""


class PathChange(BaseModel):
    """One path changed between two moments: the sha256 of what it held before and after
    (a symlink's target for a link), None where there was no file."""

    model_config = ConfigDict(frozen=True)

    path: str  # workspace-relative, '/'-separated
    before: str | None
    after: str | None


def content_hash(path: Path) -> str | None:
    """What `path` holds now, hashed as `PathChange` hashes it: sha256 of a file's bytes or of
    a symlink's target; None when nothing is there. A folder or anything else gets a marker
    that equals no hash, so it never passes for the file that was there."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            return hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest()
        if stat.S_ISREG(info.st_mode):
            return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # a parent is a file now: nothing at this path
    return f"not a file ({stat.filemode(info.st_mode)})"


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

    def tree(self) -> str:
        """The workspace as it is now, as a tree id in the store (for `changes`): cheap, since
        the store's index is a stat cache and only files changed since are hashed."""
        with self._locked():
            self._ensure_store()
            return self._write_tree()

    def left_out(self, paths: builtins.list[str]) -> set[str]:
        """Which of `paths` (workspace-relative, existing or not) snapshots leave out: the
        EXCLUDES and what the project's own ignore files ignore."""
        if not paths:
            return set()
        with self._locked():
            self._ensure_store()
            out = self._git(
                "check-ignore", "--no-index", "-z", "--stdin", stdin=_z(set(paths)), check=False
            )
        return set(out.split("\0")[:-1])

    def changes(self, old: str, new: str) -> builtins.list[PathChange]:
        """Every path that differs between two trees or commits of the store, with the sha256
        of its content on each side."""
        out = self._git("diff-tree", "-r", "-z", "--no-renames", "--raw", old, new)
        fields = out.split("\0")[:-1]
        entries: builtins.list[tuple[str, str | None, str | None]] = []
        for meta, path in zip(fields[0::2], fields[1::2], strict=True):
            old_mode, new_mode, old_id, new_id = meta.lstrip(":").split(" ")[:4]
            if _GITLINK in (old_mode, new_mode):
                continue  # a nested repository's pointer, not a file; its files are listed
            entries.append((path, _blob(old_mode, old_id), _blob(new_mode, new_id)))
        hashes = self._sha256_of(oid for _, *ids in entries for oid in ids if oid)
        return [
            PathChange(
                path=path,
                before=hashes[before] if before else None,
                after=hashes[after] if after else None,
            )
            for path, before, after in entries
        ]

    def hashes_at(self, checkpoint: str, paths: Iterable[str]) -> dict[str, str | None]:
        """The sha256 of what each of `paths` held at `checkpoint` (None: no file there)."""
        wanted = set(paths)
        commit = self._resolve(checkpoint)
        out = self._git("ls-tree", "-r", "-z", "--full-tree", commit)
        blobs: dict[str, str] = {}
        for entry in out.split("\0")[:-1]:
            meta, path = entry.split("\t", 1)
            mode, _, oid = meta.split(" ")
            if path in wanted and mode != _GITLINK:
                blobs[path] = oid
        hashes = self._sha256_of(blobs.values())
        return {path: hashes[blobs[path]] if path in blobs else None for path in sorted(wanted)}

    def restore_paths(self, checkpoint: str, paths: Iterable[str], label: str) -> str:
        """Put back `paths` as they were at `checkpoint`, and nothing else: a path that held no
        file then is deleted (with folders left empty). The workspace is snapshotted first,
        under `label`; that commit is returned, so the restore itself can be undone."""
        with self._locked():
            commit = self._resolve(checkpoint)
            chosen = set(paths)
            listed = self._git("ls-tree", "-r", "-z", "--name-only", "--full-tree", commit)
            present = set(listed.split("\0")[:-1]) & chosen
            gone = chosen - present
            wanted = sorted(present)
            self._check_not_blocked(wanted, gone)  # before anything changes, the snapshot too
            undo = self._snapshot(label)
            for path in sorted(gone):
                target = self.workspace / path
                if os.path.lexists(target) and not (target.is_dir() and not target.is_symlink()):
                    target.unlink()
                    self._prune_empty_parents(target.parent)
            if wanted:
                with self._scratch_index() as index:
                    self._git("read-tree", commit, index=index)
                    self._git(
                        "checkout-index", "-f", "-z", "--stdin", index=index, stdin=_z(wanted)
                    )
            return undo

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

    def _sha256_of(self, oids: Iterable[str]) -> dict[str, str]:
        """sha256 of the content of each blob, streamed through `git cat-file --batch` (a
        command's output may hold big files: none is read whole into memory)."""
        unique = sorted(set(oids))
        if not unique:
            return {}
        process = subprocess.Popen(
            ["git", "--no-pager", *_CONFIG, "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self._env(),
            cwd=self.store,
        )
        assert process.stdin is not None and process.stdout is not None
        feed = "".join(f"{oid}\n" for oid in unique).encode()

        def write() -> None:
            # From a thread: git answers while it reads, and a full pipe would block both.
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(feed)
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        hashes: dict[str, str] = {}
        try:
            for oid in unique:
                header = process.stdout.readline().split()
                if len(header) != 3 or header[1] != b"blob":
                    raise CheckpointError(f"git cat-file: no blob {oid}")
                digest, left = hashlib.sha256(), int(header[2])
                while left:
                    chunk = process.stdout.read(min(left, 1 << 20))
                    if not chunk:
                        raise CheckpointError(f"git cat-file: {oid} cut short")
                    digest.update(chunk)
                    left -= len(chunk)
                process.stdout.read(1)  # the newline after the content
                hashes[oid] = digest.hexdigest()
        finally:
            process.stdout.close()
            writer.join(GIT_TIMEOUT)
            try:
                process.wait(GIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return hashes

    def _scratch_index(self) -> tempfile.TemporaryDirectory[str]:
        # The folder, not a file: git must create the index itself.
        return tempfile.TemporaryDirectory(prefix="index-", dir=self.store)

    def _env(self) -> dict[str, str]:
        """The environment of every git call on the store."""
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
        return env

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
        env = self._env()
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


def _blob(mode: str, oid: str) -> str | None:
    """The blob id of one side of a raw diff entry; None where that side holds no file."""
    return None if mode == "000000" else oid


def _z(paths: builtins.list[str] | set[str]) -> str:
    """Paths as git's NUL-terminated `-z --stdin` input."""
    return "".join(f"{path}\0" for path in sorted(paths))
