"""Applying proposed changes: atomic, mode and line endings kept, refused when stale."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plangate.permissions import Policy
from plangate.tools import ApplyError, ToolContext, apply_change
from plangate.tools.changes import ChangeKind, ProposedChange, apply_once
from plangate.tools.edit import EditTool, WriteTool
from plangate.tools.read import ReadTool

from .conftest import run


def _propose(
    ctx: ToolContext, tool: WriteTool | EditTool, args: dict[str, object]
) -> ProposedChange:
    result = run(tool.run(args, ctx))
    assert not result.is_error, result.text
    return ProposedChange.model_validate(result.data["change"])


def test_apply_creates_folders_and_keeps_mode(ctx: ToolContext, workspace: Path) -> None:
    change = _propose(ctx, WriteTool(), {"file_path": "a/b/c.sh", "content": "echo hi\n"})
    written = apply_change(change, workspace, ctx.policy)
    assert written.read_text() == "echo hi\n"
    script = workspace / "run.sh"
    script.write_text("old\n")
    script.chmod(0o755)
    run(ReadTool().run({"file_path": "run.sh"}, ctx))
    edit = _propose(
        ctx, EditTool(), {"file_path": "run.sh", "old_string": "old", "new_string": "new"}
    )
    apply_change(edit, workspace, ctx.policy)
    assert script.read_text() == "new\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert not list(script.parent.glob(".run.sh.*"))  # no temp files left


def test_apply_refused_when_file_changed_or_appeared(ctx: ToolContext, workspace: Path) -> None:
    target = workspace / "a.txt"
    target.write_text("one\n")
    run(ReadTool().run({"file_path": "a.txt"}, ctx))
    change = _propose(
        ctx, EditTool(), {"file_path": "a.txt", "old_string": "one", "new_string": "two"}
    )
    target.write_text("someone else\n")
    with pytest.raises(ApplyError, match="changed or was removed since"):
        apply_change(change, workspace, ctx.policy)
    assert target.read_text() == "someone else\n"
    create = _propose(ctx, WriteTool(), {"file_path": "new.txt", "content": "x"})
    (workspace / "new.txt").write_text("raced\n")
    with pytest.raises(ApplyError, match="was created since"):
        apply_change(create, workspace, ctx.policy)


def test_apply_rechecks_permissions(ctx: ToolContext, workspace: Path) -> None:
    change = _propose(ctx, WriteTool(), {"file_path": "notes.txt", "content": "x"})
    # After the proposal, notes.txt becomes a link to a denied file.
    (workspace / ".env").write_text("A=1\n")
    os.symlink(".env", workspace / "notes.txt")
    with pytest.raises(ApplyError, match="refused"):
        apply_change(change, workspace, ctx.policy)
    assert (workspace / ".env").read_text() == "A=1\n"


def test_delete_and_rename(ctx: ToolContext, workspace: Path, seed_agent) -> None:  # type: ignore[no-untyped-def]
    from plangate.tools.ledger import FileStamp

    policy = Policy(seed_agent.permission, workspace)
    (workspace / "old.txt").write_text("x\n")
    stamp = FileStamp.of(workspace / "old.txt")
    decision = policy.check_edit("old.txt")
    rename = ProposedChange(
        kind=ChangeKind.RENAME,
        path="old.txt",
        new_path="sub/new.txt",
        diff="",
        decision=decision,
        base=stamp,
    )
    apply_change(rename, workspace, policy)
    assert (workspace / "sub" / "new.txt").read_text() == "x\n" and not (
        workspace / "old.txt"
    ).exists()
    delete = ProposedChange(
        kind=ChangeKind.DELETE,
        path="sub/new.txt",
        diff="",
        decision=decision,
        base=FileStamp.of(workspace / "sub" / "new.txt"),
    )
    apply_change(delete, workspace, policy)
    assert not (workspace / "sub" / "new.txt").exists()
    to_git = ProposedChange(
        kind=ChangeKind.RENAME,
        path="a.txt",
        new_path=".git/a.txt",
        diff="",
        decision=decision,
        base=None,
    )
    with pytest.raises(ApplyError, match="refused"):
        apply_change(to_git, workspace, policy)


def test_a_rename_or_delete_done_before_a_crash_is_not_done_again(
    workspace: Path, policy: Policy
) -> None:
    """After a restart the same change is applied once more: done already, it is a no-op,
    where apply_change alone refuses ("changed or was removed")."""
    from plangate.tools.ledger import FileStamp

    (workspace / "old.txt").write_text("x\n")
    rename = _rename(workspace, policy, "old.txt", "new.txt")
    assert apply_once(rename, workspace, policy) == (workspace / "new.txt").resolve()
    assert apply_once(rename, workspace, policy) == (workspace / "new.txt").resolve()
    with pytest.raises(ApplyError, match="changed or was removed"):
        apply_change(rename, workspace, policy)
    delete = ProposedChange(
        kind=ChangeKind.DELETE,
        path="new.txt",
        diff="",
        decision=policy.check_edit("new.txt"),
        base=FileStamp.of(workspace / "new.txt"),
    )
    apply_once(delete, workspace, policy)
    apply_once(delete, workspace, policy)
    assert not (workspace / "new.txt").exists() and (workspace / "new.txt").parent.is_dir()


def _rename(workspace: Path, policy: Policy, source: str, destination: str) -> ProposedChange:
    from plangate.tools.ledger import FileStamp

    return ProposedChange(
        kind=ChangeKind.RENAME,
        path=source,
        new_path=destination,
        diff="",
        decision=policy.check_edit(source),
        base=FileStamp.of(workspace / source),
    )


def test_rename_destination_must_stay_inside(workspace: Path, policy: Policy) -> None:
    outside = workspace.parent / "outside"
    outside.mkdir()
    (workspace / "out").symlink_to(outside)  # a symlinked parent that leaves the workspace
    (workspace / "up").symlink_to("..")
    (workspace / "a.txt").write_text("x\n")
    escapes = [
        "../escaped.txt",
        "sub/../../escaped.txt",
        "out/escaped.txt",
        "up/escaped.txt",
        str(outside / "absolute.txt"),
    ]
    for destination in escapes:
        for rules in (policy, None):  # refused by the workspace check, rules or not
            change = _rename(workspace, policy, "a.txt", destination)
            with pytest.raises(ApplyError, match="resolves outside the workspace"):
                apply_change(change, workspace, rules)
    assert (workspace / "a.txt").read_text() == "x\n"
    assert sorted(p.name for p in workspace.parent.iterdir()) == ["outside", "ws"]
    assert list(outside.iterdir()) == []
    # Inside, through a symlinked folder that stays inside, a rename still works.
    (workspace / "lib").mkdir()
    (workspace / "inner").symlink_to("lib")
    apply_change(_rename(workspace, policy, "a.txt", "inner/a.txt"), workspace, policy)
    assert (workspace / "lib" / "a.txt").read_text() == "x\n"


def test_rename_onto_a_denied_path_is_refused(workspace: Path, policy: Policy) -> None:
    (workspace / ".git" / "hooks").mkdir(parents=True)
    (workspace / "cfg").symlink_to(".git")  # a denied folder under another name
    (workspace / "a.txt").write_text("x\n")
    for destination in (".env", "config/.env.local", "cfg/hooks/post-commit", "x.secret"):
        change = _rename(workspace, policy, "a.txt", destination)
        with pytest.raises(ApplyError, match="refused"):
            apply_change(change, workspace, policy)
        assert not (workspace / destination).exists()
    assert (workspace / "a.txt").read_text() == "x\n"
    assert list((workspace / ".git" / "hooks").iterdir()) == []


KILLER = """
import sys
from pathlib import Path
from plangate.permissions import Policy
from plangate.tools.changes import ProposedChange, ChangeKind, apply_change, unified_diff
from plangate.tools.ledger import FileStamp
workspace = Path(sys.argv[1])
policy = Policy({}, workspace)
texts = ["A" * 4_000_000, "B" * 4_000_000]
i = 0
print("ready", flush=True)
while True:
    path = workspace / "big.txt"
    change = ProposedChange(kind=ChangeKind.MODIFY, path="big.txt", old_text=None,
        new_text=texts[i % 2], diff="", decision=policy.check_edit("big.txt"),
        base=FileStamp.of(path))
    apply_change(change, workspace, policy)
    i += 1
"""


def test_apply_killed_halfway_leaves_old_or_new(workspace: Path) -> None:
    big = workspace / "big.txt"
    big.write_text("A" * 4_000_000)
    for attempt in range(12):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLER, str(workspace)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.037 * attempt)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        content = big.read_text()
        assert content in ("A" * 4_000_000, "B" * 4_000_000), f"mixed file after kill {attempt}"
