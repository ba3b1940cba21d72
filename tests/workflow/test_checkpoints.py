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


def test_snapshot_modify_restore(ws: Path) -> None:
    cp = Checkpoints(ws)
    before = _contents(ws)
    commit = cp.snapshot("start")
    (ws / "a.txt").write_text("changed\n")
    (ws / "src/b.py").write_text("changed\n")
    assert cp.restore(commit) == ["a.txt", "src/b.py"]
    assert _contents(ws) == before
    assert cp.changed_since(commit) == []


def test_restore_removes_added_files_and_their_empty_folders(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    _write(ws, {"new.txt": "n", "fresh/dir/x.py": "x", "src/extra.py": "e"})
    assert cp.restore(commit) == ["fresh/dir/x.py", "new.txt", "src/extra.py"]
    assert not (ws / "new.txt").exists()
    assert not (ws / "fresh").exists()
    assert (ws / "src/b.py").read_text() == "b1\n"


def test_restore_brings_back_deleted_files(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "src/deep/c.md").unlink()
    (ws / "src/deep").rmdir()
    (ws / "a.txt").unlink()
    assert cp.restore(commit) == ["a.txt", "src/deep/c.md"]
    assert (ws / "src/deep/c.md").read_text() == "c1\n"
    assert (ws / "a.txt").read_text() == "a1\n"


def test_changed_since_lists_exactly_the_changed_paths(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    assert cp.changed_since(commit) == []
    (ws / "src/b.py").write_text("changed\n")
    (ws / "a.txt").unlink()
    _write(ws, {"z/new.txt": "n"})
    (ws / "src/deep/c.md").touch()  # same content: not a change
    assert cp.changed_since(commit) == ["a.txt", "src/b.py", "z/new.txt"]


def test_unchanged_workspace_gives_a_new_commit_with_the_same_tree(ws: Path) -> None:
    cp = Checkpoints(ws)
    first = cp.snapshot("one")
    second = cp.snapshot("two")
    assert first != second
    assert cp.changed_since(first) == []
    assert cp.restore(first) == []


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
    assert cp.changed_since(commit) == ["vendor/lib/lib.py"]
    (nested / ".git" / "scratch").unlink()
    # The nested project's working files roll back like any other; its .git never does.
    assert cp.restore(commit) == ["vendor/lib/lib.py"]
    assert (nested / "lib.py").read_text() == "v1\n"
    assert _tree_hash(nested / ".git") == git_hash


def test_ignored_and_excluded_folders_are_left_alone(ws: Path) -> None:
    # The project re-includes node_modules: the fixed exclusions still win.
    _write(ws, {".gitignore": "build/\n*.log\n!node_modules/\n", "build/out.bin": "old"})
    _write(ws, {"node_modules/m/index.js": "old", ".venv/lib/x.py": "old", "x.log": "old"})
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
    }
    _write(ws, kept)
    (ws / "a.txt").write_text("changed\n")
    assert cp.changed_since(commit) == ["a.txt"]
    assert cp.restore(commit) == ["a.txt"]
    assert {rel: (ws / rel).read_text() for rel in kept} == kept


def test_executable_bit_is_kept(ws: Path) -> None:
    script = ws / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    script.chmod(0o644)
    assert cp.changed_since(commit) == ["run.sh"]
    script.unlink()
    assert cp.restore(commit) == ["run.sh"]
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
    assert cp.restore(commit) == ["dirlink", "link"]
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
    assert cp.changed_since(commit) == sorted([*names, "новый файл.txt"])
    cp.restore(commit)
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
    assert cp.restore(older) == ["a.txt", "second.txt"]
    assert _contents(ws) == first
    assert cp.restore(newer) == ["a.txt", "second.txt"]
    assert _contents(ws) == second


def test_list_is_newest_first_with_labels(ws: Path) -> None:
    cp = Checkpoints(ws)
    assert cp.list() == []
    assert not (ws / ".plangate").exists()  # the store is created lazily
    labels = ["plan approved", "phase 1: edit\nsecond line", "phase 2 ✓"]
    commits = [cp.snapshot(label) for label in labels]
    assert cp.list() == list(zip(reversed(commits), reversed(labels), strict=True))


def test_unknown_checkpoint_raises(ws: Path) -> None:
    cp = Checkpoints(ws)
    with pytest.raises(CheckpointError):
        cp.restore("0123abcd")  # before any snapshot
    cp.snapshot("start")
    for bad in ["0" * 40, "deadbeef", "HEAD", "--help", ""]:
        with pytest.raises(CheckpointError):
            cp.changed_since(bad)
        with pytest.raises(CheckpointError):
            cp.restore(bad)
    assert _contents(ws)["a.txt"] == "a1\n"


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
    assert cp.restore(commit) == ["a.txt", "agent.txt"]
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
    cp.restore(commit)
    assert (ws / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n"


def test_file_turned_folder_is_restored(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "a.txt").unlink()
    _write(ws, {"a.txt/inner.txt": "i"})
    assert cp.restore(commit) == ["a.txt", "a.txt/inner.txt"]
    assert (ws / "a.txt").read_text() == "a1\n"


def test_restore_refuses_to_wipe_excluded_files_in_the_way(ws: Path) -> None:
    cp = Checkpoints(ws)
    commit = cp.snapshot("start")
    (ws / "a.txt").unlink()
    _write(ws, {"a.txt/node_modules/keep.js": "precious", "new.txt": "n"})
    with pytest.raises(CheckpointError, match=r"a\.txt"):
        cp.restore(commit)
    assert (ws / "a.txt/node_modules/keep.js").read_text() == "precious"
    assert (ws / "new.txt").exists()  # refused before changing anything


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
    assert cp.restore(commit) == ["a.txt"]
    assert (ws / "a.txt").read_text() == "a1\n"
    assert not (ws / ".plangate").exists()
    assert not (tmp_path / "elsewhere").exists()
