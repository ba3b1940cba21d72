"""Checkpoints: snapshots in a shadow git repository, restored without touching the project."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from plangate.workflow.checkpoints import CheckpointError, Checkpoints


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _contents(root: Path) -> dict[str, str]:
    """Every regular file under `root` (project .git folders and .plangate left out)."""
    found = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".plangate")]
        for name in names:
            path = Path(folder) / name
            if not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_text()
    return found


def _tree_hash(root: Path) -> str:
    """A hash of names, modes, contents and link targets of everything under `root`."""
    digest = hashlib.sha256()
    for folder, dirs, names in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(dirs + names):
            path = Path(folder) / name
            info = path.lstat()
            digest.update(f"{path.relative_to(root)}\0{info.st_mode}\0".encode())
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            elif path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _project_git(repo: Path, *args: str) -> str:
    """Run git on the project itself, isolated from the user's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, HOME=str(repo))
    command = ["git", "-c", "user.name=T", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    done = subprocess.run(
        [*command, *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A small workspace."""
    root = tmp_path / "ws"
    _write(root, {"a.txt": "a1\n", "src/b.py": "b1\n", "src/deep/c.md": "c1\n"})
    return root


def _changed(cp: Checkpoints, checkpoint: str) -> list[str]:
    """The paths that differ between `checkpoint` and the workspace now, as a session sees
    what a command changed: `changes` from one tree to the next."""
    return sorted(change.path for change in cp.changes(checkpoint, cp.tree()))


def test_snapshot_modify_restore(ws: Path) -> None:
    cp = Checkpoints(ws)
    before = _contents(ws)
    commit = cp.snapshot("start")
    (ws / "a.txt").write_text("changed\n")
    (ws / "src/b.py").write_text("changed\n")
    undo = cp.restore_paths(commit, ["a.txt", "src/b.py"], "before rolling back")
    assert _contents(ws) == before
    assert _changed(cp, commit) == []
    # The workspace as it was before the restore was snapshotted first: it can be undone.
    assert cp.list()[0] == (undo, "before rolling back")
    assert cp.hashes_at(undo, ["a.txt"]) == {"a.txt": hashlib.sha256(b"changed\n").hexdigest()}


def test_restore_paths_leaves_other_paths_alone(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "a.txt").write_text("agent\n")
    (ws / "src/b.py").write_text("user\n")
    _write(ws, {"user.txt": "mine"})
    cp.restore_paths(commit, ["a.txt"], "undo")
    assert (ws / "a.txt").read_text() == "a1\n"
    assert (ws / "src/b.py").read_text() == "user\n"
    assert (ws / "user.txt").read_text() == "mine"


def test_restore_removes_added_files_and_their_empty_folders(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    _write(ws, {"new.txt": "n", "fresh/dir/x.py": "x", "src/extra.py": "e"})
    added = ["fresh/dir/x.py", "new.txt", "src/extra.py"]
    assert _changed(cp, commit) == added
    cp.restore_paths(commit, added, "undo")
    assert not (ws / "new.txt").exists()
    assert not (ws / "fresh").exists()
    assert not (ws / "src/extra.py").exists()
    assert (ws / "src/b.py").read_text() == "b1\n"


def test_restore_brings_back_deleted_files(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "src/deep/c.md").unlink()
    (ws / "src/deep").rmdir()
    (ws / "a.txt").unlink()
    assert _changed(cp, commit) == ["a.txt", "src/deep/c.md"]
    cp.restore_paths(commit, ["a.txt", "src/deep/c.md"], "undo")
    assert (ws / "src/deep/c.md").read_text() == "c1\n"
    assert (ws / "a.txt").read_text() == "a1\n"


def test_changes_lists_exactly_the_changed_paths(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    assert cp.changes(commit, cp.tree()) == []
    (ws / "src/b.py").write_text("changed\n")
    (ws / "a.txt").unlink()
    _write(ws, {"z/new.txt": "n"})
    (ws / "src/deep/c.md").touch()  # same content: not a change
    assert _changed(cp, commit) == ["a.txt", "src/b.py", "z/new.txt"]


def test_unchanged_workspace_gives_a_new_commit_with_the_same_tree(ws: Path) -> None:
    cp = Checkpoints(ws)
    first = cp.snapshot("one")
    second = cp.snapshot("two")
    assert first != second
    assert cp.changes(first, second) == []
    assert cp.changes(first, cp.tree()) == []


def test_nested_repository_git_untouched_and_not_snapshotted(ws: Path) -> None:
    nested = ws / "vendor/lib"
    _write(nested, {"lib.py": "v1\n"})
    _project_git(nested, "init", "-q")
    _project_git(nested, "add", "-A")
    _project_git(nested, "commit", "-q", "-m", "lib")
    git_hash = _tree_hash(nested / ".git")
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (nested / "lib.py").write_text("v2\n")
    (nested / ".git" / "scratch").write_text("not ours")
    assert _changed(cp, commit) == ["vendor/lib/lib.py"]
    (nested / ".git" / "scratch").unlink()
    # The nested project's working files roll back like any other; its .git never does.
    cp.restore_paths(commit, ["vendor/lib/lib.py"], "undo")
    assert (nested / "lib.py").read_text() == "v1\n"
    assert _tree_hash(nested / ".git") == git_hash


def test_ignored_and_excluded_folders_are_left_alone(ws: Path) -> None:
    # The project re-includes node_modules: the fixed exclusions still win.
    _write(ws, {".gitignore": "build/\n*.log\n!node_modules/\n", "build/out.bin": "old"})
    _write(ws, {"node_modules/m/index.js": "old", ".venv/lib/x.py": "old", "x.log": "old"})
    _write(ws, {".env": "old", "src/.env.local": "old"})
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    kept = {
        "build/out.bin": "new",
        "build/more.bin": "new",
        "x.log": "new",
        "node_modules/m/index.js": "new",
        "node_modules/n/new.js": "new",
        ".venv/lib/x.py": "new",
        "src/__pycache__/b.cpython-311.pyc": "new",
        ".plangate/notes.md": "new",
        ".env": "new",
        "src/.env.local": "new",
    }
    _write(ws, kept)
    (ws / "a.txt").write_text("changed\n")
    assert _changed(cp, commit) == ["a.txt"]
    undo = cp.restore_paths(commit, ["a.txt"], "undo")
    assert (ws / "a.txt").read_text() == "a1\n"
    assert {rel: (ws / rel).read_text() for rel in kept} == kept
    # None of them is in either snapshot (dotenv files least of all: they hold secrets).
    nothing = dict.fromkeys(sorted(kept))
    assert cp.hashes_at(commit, kept) == nothing
    assert cp.hashes_at(undo, kept) == nothing


def test_executable_bit_is_kept(ws: Path) -> None:
    script = ws / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    script.chmod(0o644)
    assert _changed(cp, commit) == ["run.sh"]
    script.unlink()
    cp.restore_paths(commit, ["run.sh"], "undo")
    assert script.stat().st_mode & 0o111 == 0o111
    assert not (ws / "a.txt").stat().st_mode & 0o111


def test_symlinks_round_trip(ws: Path) -> None:
    (ws / "link").symlink_to("src/b.py")
    (ws / "dirlink").symlink_to("src")
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "link").unlink()
    (ws / "link").write_text("now a file\n")
    (ws / "dirlink").unlink()
    assert _changed(cp, commit) == ["dirlink", "link"]
    cp.restore_paths(commit, ["dirlink", "link"], "undo")
    assert os.readlink(ws / "link") == "src/b.py"
    assert os.readlink(ws / "dirlink") == "src"
    assert (ws / "src/b.py").read_text() == "b1\n"


def test_unicode_and_space_names(ws: Path) -> None:
    names = ["with space.txt", "ünïcødé/日本語.md", "tab\tand\nnewline.txt"]
    _write(ws, dict.fromkeys(names, "orig"))
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    for name in names:
        (ws / name).write_text("changed")
    _write(ws, {"новый файл.txt": "x"})
    changed = _changed(cp, commit)
    assert changed == sorted([*names, "новый файл.txt"])
    cp.restore_paths(commit, changed, "undo")
    assert all((ws / name).read_text() == "orig" for name in names)
    assert not (ws / "новый файл.txt").exists()


def test_restore_the_older_of_two_snapshots(ws: Path) -> None:
    cp = Checkpoints(ws)
    first = _contents(ws)
    older = cp.snapshot("one")
    (ws / "a.txt").write_text("a2\n")
    _write(ws, {"second.txt": "s"})
    newer = cp.snapshot("two")
    second = _contents(ws)
    (ws / "a.txt").write_text("a3\n")
    third = _contents(ws)
    paths = ["a.txt", "second.txt"]
    assert _changed(cp, older) == paths
    undo = cp.restore_paths(older, paths, "undo one")
    assert _contents(ws) == first
    assert _changed(cp, newer) == paths
    cp.restore_paths(newer, paths, "undo two")
    assert _contents(ws) == second
    cp.restore_paths(undo, paths, "undo the undo")  # back to before the first restore
    assert _contents(ws) == third


def test_list_is_newest_first_with_labels(ws: Path) -> None:
    cp = Checkpoints(ws)
    assert cp.list() == []
    assert not (ws / ".plangate").exists()  # the store is created lazily
    labels = ["plan approved", "phase 1: edit\nsecond line", "phase 2 ✓"]
    commits = [cp.snapshot(label) for label in labels]
    assert cp.list() == list(zip(reversed(commits), reversed(labels), strict=True))


def test_unknown_checkpoint_raises(ws: Path) -> None:
    cp = Checkpoints(ws)
    (ws / "a.txt").write_text("changed\n")
    with pytest.raises(CheckpointError, match="unknown checkpoint"):
        cp.restore_paths("0123abcd", ["a.txt"], "undo")  # before any snapshot
    assert cp.list() == []  # refused before the undo snapshot
    cp.snapshot("start")
    for bad in ["0" * 40, "deadbeef", "HEAD", "--help", ""]:
        with pytest.raises(CheckpointError, match="unknown checkpoint"):
            cp.hashes_at(bad, ["a.txt"])
        with pytest.raises(CheckpointError, match="unknown checkpoint"):
            cp.restore_paths(bad, ["a.txt"], "undo")
    assert len(cp.list()) == 1
    assert _contents(ws)["a.txt"] == "changed\n"


def test_workspace_git_repo_keeps_head_index_and_git_folder(ws: Path) -> None:
    _project_git(ws, "init", "-q")
    _project_git(ws, "add", "-A")
    _project_git(ws, "commit", "-q", "-m", "first")
    (ws / "a.txt").write_text("staged\n")
    _project_git(ws, "add", "a.txt")
    head = _project_git(ws, "rev-parse", "HEAD")
    index = (ws / ".git/index").read_bytes()
    git_hash = _tree_hash(ws / ".git")
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "a.txt").write_text("agent edit\n")
    _write(ws, {"agent.txt": "new"})
    assert _changed(cp, commit) == ["a.txt", "agent.txt"]
    cp.restore_paths(commit, ["a.txt", "agent.txt"], "undo")
    assert not (ws / "agent.txt").exists()
    assert (ws / "a.txt").read_text() == "staged\n"
    assert _project_git(ws, "rev-parse", "HEAD") == head
    assert (ws / ".git/index").read_bytes() == index
    assert _tree_hash(ws / ".git") == git_hash


def test_gitattributes_do_not_rewrite_bytes(ws: Path) -> None:
    _write(ws, {".gitattributes": "* text eol=lf\n"})
    (ws / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "crlf.txt").write_bytes(b"other\n")
    assert _changed(cp, commit) == ["crlf.txt"]
    cp.restore_paths(commit, ["crlf.txt"], "undo")
    assert (ws / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n"


def test_file_turned_folder_is_restored(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "a.txt").unlink()
    _write(ws, {"a.txt/inner.txt": "i"})
    assert _changed(cp, commit) == ["a.txt", "a.txt/inner.txt"]
    cp.restore_paths(commit, ["a.txt", "a.txt/inner.txt"], "undo")
    assert (ws / "a.txt").read_text() == "a1\n"


def test_restore_refuses_to_wipe_excluded_files_in_the_way(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "a.txt").unlink()
    _write(ws, {"a.txt/node_modules/keep.js": "precious", "new.txt": "n"})
    changed = _changed(cp, commit)
    assert changed == ["a.txt", "new.txt"]  # the excluded file is no change of the agent's
    with pytest.raises(CheckpointError, match=r"a\.txt"):
        cp.restore_paths(commit, changed, "undo")
    assert (ws / "a.txt/node_modules/keep.js").read_text() == "precious"
    assert (ws / "new.txt").exists()  # refused before changing anything
    assert len(cp.list()) == 1  # nor was the undo snapshot taken


def test_user_git_environment_and_config_are_ignored(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    _write(home, {".gitconfig": "[commit]\n\tgpgsign = true\n[core]\n\tautocrlf = true\n"})
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "elsewhere-index"))
    cp = Checkpoints(ws, store=tmp_path / "store")
    commit = cp.snapshot("start")
    (ws / "a.txt").write_text("changed\n")
    assert _changed(cp, commit) == ["a.txt"]
    cp.restore_paths(commit, ["a.txt"], "undo")
    assert (ws / "a.txt").read_text() == "a1\n"
    assert not (ws / ".plangate").exists()
    assert not (tmp_path / "elsewhere").exists()
