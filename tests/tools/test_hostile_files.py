"""Hostile files give the model a result it can read, never an internal error that stops the
session (issue 14, item 9): bytes that are not UTF-8 past the first 8 KB, a symlink loop."""

from __future__ import annotations

from pathlib import Path

from plangate.tools import ToolContext
from plangate.tools.edit import EditTool
from plangate.tools.read import ReadTool

from .conftest import run

READ, EDIT = ReadTool(), EditTool()


def test_a_non_utf8_byte_after_8_kb_is_an_edit_error_not_a_crash(
    ctx: ToolContext, workspace: Path
) -> None:
    target = workspace / "notes.txt"
    target.write_bytes(b"line of text\n" * 1000 + b"caf\xe9\n")  # latin-1, past 8 KB
    read = run(READ.run({"file_path": "notes.txt"}, ctx))
    assert not read.is_error and "line of text" in read.text
    edit = run(EDIT.run({"file_path": "notes.txt", "old_string": "caf", "new_string": "cafe"}, ctx))
    assert edit.is_error and "is not UTF-8 text (byte 13003" in edit.text
    assert target.read_bytes().endswith(b"caf\xe9\n")  # untouched


def test_a_symlink_loop_is_a_result(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "loop_a").symlink_to(workspace / "loop_b")
    (workspace / "loop_b").symlink_to(workspace / "loop_a")
    for tool, raw in (
        (READ, {"file_path": "loop_a"}),
        (EDIT, {"file_path": "loop_a", "old_string": "x", "new_string": "y"}),
    ):
        result = run(tool.run(raw, ctx))
        assert result.is_error and result.text, tool.name
