"""write and edit propose changes and never touch the disk."""

from __future__ import annotations

import os
from pathlib import Path

from plangate.tools import ToolContext
from plangate.tools.edit import EditTool, WriteTool
from plangate.tools.read import ReadTool

from .conftest import run

READ, WRITE, EDIT = ReadTool(), WriteTool(), EditTool()


def _read(ctx: ToolContext, path: str) -> None:
    assert not run(READ.run({"file_path": path}, ctx)).is_error


def test_write_new_file_is_a_proposal(ctx: ToolContext, workspace: Path) -> None:
    result = run(WRITE.run({"file_path": "src/app.py", "content": "print('hi')\n"}, ctx))
    assert not result.is_error
    change = result.data["change"]
    assert change["kind"] == "create" and change["path"] == "src/app.py"
    assert "+print('hi')" in change["diff"] and change["decision"]["action"] == "allow"
    assert not (workspace / "src").exists()


def test_edit_needs_a_fresh_read(ctx: ToolContext, workspace: Path) -> None:
    target = workspace / "a.py"
    target.write_text("x = 1\n")
    args = {"file_path": "a.py", "old_string": "x = 1", "new_string": "x = 2"}
    assert "Read a.py before" in run(EDIT.run(args, ctx)).text
    _read(ctx, "a.py")
    target.write_text("x = 1\ny = 2\n")
    assert "changed on disk since you read it" in run(EDIT.run(args, ctx)).text
    _read(ctx, "a.py")
    result = run(EDIT.run(args, ctx))
    assert not result.is_error
    assert result.data["change"]["new_text"] == "x = 2\ny = 2\n"
    assert target.read_text() == "x = 1\ny = 2\n"  # untouched until applied


def test_unique_match_and_replace_all(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "a.py").write_text("a = 1\nb = 1\na = 1\n")
    _read(ctx, "a.py")
    ambiguous = run(
        EDIT.run({"file_path": "a.py", "old_string": "a = 1", "new_string": "a = 3"}, ctx)
    )
    assert ambiguous.is_error and "2 places" in ambiguous.text and "lines 1, 3" in ambiguous.text
    everywhere = run(
        EDIT.run(
            {
                "file_path": "a.py",
                "old_string": "a = 1",
                "new_string": "a = 3",
                "replace_all": True,
            },
            ctx,
        )
    )
    assert everywhere.data["change"]["new_text"] == "a = 3\nb = 1\na = 3\n"


def test_whitespace_and_indentation_are_tolerated(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "a.py").write_text("def f():\n    if x:\n        return 1\n    return 2\n")
    _read(ctx, "a.py")
    result = run(
        EDIT.run(
            {
                "file_path": "a.py",
                "old_string": "if x:\n    return 1",  # indentation off by four
                "new_string": "    if x:\n        return 10",
            },
            ctx,
        )
    )
    assert not result.is_error, result.text
    assert result.data["matched_by"] == "indentation-flexible"
    assert result.data["change"]["new_text"] == (
        "def f():\n    if x:\n        return 10\n    return 2\n"
    )
    trailing = run(
        EDIT.run({"file_path": "a.py", "old_string": "return 2   ", "new_string": "return 3"}, ctx)
    )
    assert not trailing.is_error, trailing.text


def test_not_found_shows_closest_lines(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "a.py").write_text("alpha()\nbeta(1, 2)\ngamma()\n")
    _read(ctx, "a.py")
    result = run(
        EDIT.run({"file_path": "a.py", "old_string": "beta(1, 3)", "new_string": "x"}, ctx)
    )
    assert result.is_error and "closest lines" in result.text and "2\tbeta(1, 2)" in result.text


def test_crlf_kept(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "w.txt").write_bytes(b"one\r\ntwo\r\n")
    _read(ctx, "w.txt")
    result = run(EDIT.run({"file_path": "w.txt", "old_string": "two", "new_string": "2\n3"}, ctx))
    assert result.data["change"]["new_text"] == "one\r\n2\r\n3\r\n"


def test_denied_and_escaping_paths_refused(
    ctx: ToolContext, workspace: Path, tmp_path: Path
) -> None:
    assert "not allowed" in run(WRITE.run({"file_path": ".env", "content": "X=1"}, ctx)).text
    (workspace / ".env").write_text("X=1\n")
    os.symlink(".env", workspace / "config.txt")
    _read(ctx, "config.txt")
    refused = run(
        EDIT.run({"file_path": "config.txt", "old_string": "X=1", "new_string": "X=2"}, ctx)
    )
    assert refused.is_error and "not allowed" in refused.text
    outside = tmp_path / "outside.txt"
    outside.write_text("x\n")
    os.symlink(outside, workspace / "out.txt")
    escaped = run(WRITE.run({"file_path": "out.txt", "content": "y"}, ctx))
    assert escaped.is_error and "outside the workspace through a symlink" in escaped.text
    absolute = run(WRITE.run({"file_path": str(outside), "content": "y"}, ctx))
    assert absolute.is_error and "outside the workspace" in absolute.text


def test_phase_files_mark_undeclared_edits(ctx: ToolContext) -> None:
    ctx.declared = {"db/schema.sql"}.__contains__
    declared = run(WRITE.run({"file_path": "db/schema.sql", "content": "x"}, ctx))
    other = run(WRITE.run({"file_path": "api/app.py", "content": "x"}, ctx))
    assert declared.data["change"]["in_phase"] is True
    assert other.data["change"]["in_phase"] is False
    assert "not among the files this phase declared" in other.text
