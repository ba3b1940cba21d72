"""The read tool."""

from __future__ import annotations

import os
from pathlib import Path

from plangate.tools import ToolContext
from plangate.tools.read import ReadTool

from .conftest import Approver, run

READ = ReadTool()


def test_numbered_window_and_ledger(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "a.py").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    result = run(READ.run({"file_path": "a.py", "offset": 3, "limit": 2}, ctx))
    assert not result.is_error
    assert result.text.splitlines()[:2] == ["     3\tline 3", "     4\tline 4"]
    assert "6 more lines" in result.text and "offset 5" in result.text
    assert ctx.ledger.get(workspace / "a.py") is not None
    assert result.data["total_lines"] == 10


def test_long_lines_cut_and_byte_cap(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "long.txt").write_text("x" * 5000 + "\n" + ("y" * 100 + "\n") * 1500)
    result = run(READ.run({"file_path": "long.txt"}, ctx))
    first = result.text.splitlines()[0]
    assert first.endswith("[3000 more characters]") and len(first) < 2100
    assert "output cut at 50 KB" in result.text
    assert len(result.text.encode()) < 55 * 1024


def test_binary_huge_missing_and_folders_refused(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    huge = workspace / "huge.log"
    with huge.open("wb") as handle:
        handle.truncate(30 * 1024 * 1024)
    (workspace / "dir").mkdir()
    for path, message in (
        ("img.png", "binary"),
        ("huge.log", "too large"),
        ("nope.txt", "does not exist"),
        ("dir", "list tool"),
    ):
        result = run(READ.run({"file_path": path}, ctx))
        assert result.is_error and message in result.text, result.text


def test_read_rules_apply(ctx: ToolContext, workspace: Path) -> None:
    (workspace / ".env").write_text("SECRET=1\n")
    approver = Approver(False)
    ctx.confirm = approver
    result = run(READ.run({"file_path": ".env"}, ctx))
    assert result.is_error and "not allowed" in result.text and "SECRET" not in result.text
    assert approver.asked and approver.asked[0][1].action.value == "ask"
    ctx.confirm = Approver(True)
    assert "SECRET=1" in run(READ.run({"file_path": ".env"}, ctx)).text


def test_bad_input_is_a_clear_error(ctx: ToolContext) -> None:
    result = run(READ.run({"file_path": "a", "offset": 0}, ctx))
    assert result.is_error and "offset" in result.text
    assert run(READ.run({}, ctx)).is_error


def test_symlink_to_outside_is_external(ctx: ToolContext, workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("private\n")
    os.symlink(outside, workspace / "link.txt")
    approver = Approver(False)
    ctx.confirm = approver
    result = run(READ.run({"file_path": "link.txt"}, ctx))
    assert result.is_error and "outside the workspace" in result.text
