"""read: numbered lines of a text file, a window at a time."""

from __future__ import annotations

from pydantic import BaseModel, Field

from plangate.tools.base import Tool, ToolContext, ToolError, ToolResult, workspace_relative
from plangate.tools.ledger import FileStamp

DEFAULT_LIMIT = 2000
MAX_LINE = 2000
MAX_BYTES = 50 * 1024
MAX_FILE = 25 * 1024 * 1024
_BINARY_SAMPLE = 8192


class ReadInput(BaseModel):
    """Read a file."""

    file_path: str = Field(description="Path of the file, relative to the workspace or absolute")
    offset: int = Field(1, ge=1, description="First line to show (1-based)")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=DEFAULT_LIMIT, description="How many lines")


def is_binary(sample: bytes) -> bool:
    """NUL bytes or invalid UTF-8 in the first bytes mean binary."""
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(sample) - 4  # a multibyte character cut by the sample is fine
    return False


class ReadTool(Tool[ReadInput]):
    """Reads files with line numbers; records each read for the edit tool."""

    name = "read"
    permission = "read"
    Input = ReadInput
    description = (
        "Read a text file from the workspace. Returns numbered lines (`line<TAB>text`), "
        f"{DEFAULT_LIMIT} lines from `offset` by default; lines longer than {MAX_LINE} characters "
        "are cut. Use offset/limit to page through long files, and grep to find things first. "
        "You must read a file before editing it."
    )

    async def execute(self, params: ReadInput, ctx: ToolContext) -> ToolResult:
        """Check the read rules, then return the window of lines."""
        path, shown = workspace_relative(ctx, params.file_path)
        decision = ctx.policy.check_read(str(path))
        if not await ctx.allowed(f"read {shown}", decision):
            raise ToolError(f"Reading {shown} is not allowed: {decision.reason}")
        if path.is_dir():
            raise ToolError(f"{shown} is a folder; use the list tool to see what is in it")
        if not path.is_file():
            raise ToolError(f"{shown} does not exist")
        size = path.stat().st_size
        if size > MAX_FILE:
            raise ToolError(
                f"{shown} is {size / 1e6:.0f} MB, too large to read; search it with grep instead"
            )
        data = path.read_bytes()
        if is_binary(data[:_BINARY_SAMPLE]):
            raise ToolError(f"{shown} is a binary file ({size} bytes); it cannot be read as text")
        stamp = FileStamp.of(path)
        if stamp is not None:
            ctx.ledger.record(path, stamp)
        lines = data.decode("utf-8", errors="replace").splitlines()
        start = params.offset - 1
        window = lines[start : start + params.limit]
        out: list[str] = []
        used = 0
        cut_lines = 0
        for number, line in enumerate(window, start=params.offset):
            if len(line) > MAX_LINE:
                line = line[:MAX_LINE] + f"... [{len(line) - MAX_LINE} more characters]"
                cut_lines += 1
            entry = f"{number:6d}\t{line}"
            if used + len(entry) > MAX_BYTES:
                out.append(f"... [output cut at {MAX_BYTES // 1024} KB; continue with offset]")
                break
            out.append(entry)
            used += len(entry) + 1
        shown_last = params.offset + len(out) - 1
        if not lines:
            text = f"{shown} is empty."
        elif start >= len(lines):
            raise ToolError(
                f"{shown} has {len(lines)} lines; offset {params.offset} is past the end"
            )
        else:
            text = "\n".join(out)
            if shown_last < len(lines):
                text += f"\n\n({len(lines) - shown_last} more lines; read on with offset "
                text += f"{shown_last + 1})"
        return ToolResult(
            text=text,
            data={
                "path": shown,
                "total_lines": len(lines),
                "offset": params.offset,
                "lines": len(out),
                "cut_lines": cut_lines,
            },
        )
