"""write and edit: they propose changes; they never touch the disk."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from plangate.permissions import Decision
from plangate.tools.base import (
    Denied,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    workspace_relative,
)
from plangate.tools.changes import ChangeKind, ProposedChange, unified_diff
from plangate.tools.ledger import FileStamp
from plangate.tools.read import is_binary
from plangate.tools.replacers import closest_lines, find_spans


class WriteInput(BaseModel):
    """Create or overwrite a file."""

    file_path: str = Field(description="Path of the file, relative to the workspace or absolute")
    content: str = Field(description="The complete new content of the file")


class EditInput(BaseModel):
    """Replace text in a file."""

    file_path: str = Field(description="Path of the file, relative to the workspace or absolute")
    old_string: str = Field(min_length=1, description="The exact text to replace")
    new_string: str = Field(description="The text to put in its place")
    replace_all: bool = Field(False, description="Replace every occurrence, not just one")


def _denied(shown: str, decision: Decision) -> Denied:
    return Denied(
        f"Changing {shown} is not allowed: {decision.reason}",
        kind="edit",
        target=shown,
        decision=decision,
    )


def _target(ctx: ToolContext, file_path: str) -> tuple[Path, str]:
    """Resolve the tool's path; refuse what leaves the workspace or is denied."""
    path, shown = workspace_relative(ctx, file_path)
    root = ctx.workspace.resolve()
    if not path.resolve().is_relative_to(root):
        link = " through a symlink" if path.absolute().is_relative_to(ctx.workspace) else ""
        raise ToolError(f"{shown} is outside the workspace{link}; files there cannot be changed")
    if path.is_dir():
        raise ToolError(f"{shown} is a folder")
    decision = ctx.policy.check_edit(shown if not Path(shown).is_absolute() else str(path))
    if decision.action.value == "deny":  # final: say so before anything else
        raise _denied(shown, decision)
    return path, shown


def _require_fresh_read(ctx: ToolContext, path: Path, shown: str) -> FileStamp:
    record = ctx.ledger.get(path)
    current = FileStamp.of(path)
    if current is None:
        raise ToolError(f"{shown} does not exist")
    if record is None:
        raise ToolError(f"Read {shown} before changing it")
    if record.stamp != current:
        raise ToolError(f"{shown} changed on disk since you read it; read it again first")
    return current


def _proposal(
    ctx: ToolContext,
    path: Path,
    shown: str,
    old: str | None,
    new: str,
    base: FileStamp | None,
) -> ToolResult:
    decision = ctx.policy.check_edit(str(path))
    if decision.action.value == "deny":
        raise _denied(shown, decision)
    change = ProposedChange(
        kind=ChangeKind.CREATE if old is None else ChangeKind.MODIFY,
        path=shown,
        old_text=old,
        new_text=new,
        diff=unified_diff(shown, old, new),
        decision=decision,
        in_phase=None if ctx.declared is None else ctx.declared(shown),
        base=base,
    )
    note = ""
    if change.in_phase is False:
        note = " (not among the files this phase declared)"
    verb = "create" if old is None else "change"
    return ToolResult(
        text=f"Proposed to {verb} {shown}{note}; the user reviews it before it is applied.\n"
        f"{change.diff}",
        data={"change": change.model_dump(mode="json")},
    )


def _read_text(path: Path, shown: str) -> str:
    data = path.read_bytes()
    if is_binary(data[:8192]):
        raise ToolError(f"{shown} is a binary file and cannot be edited as text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(
            f"{shown} is not UTF-8 text (byte {exc.start} is not valid UTF-8): edit and write "
            "keep files in UTF-8, so this one cannot be changed with them without changing its "
            "encoding"
        ) from exc


class WriteTool(Tool[WriteInput]):
    """Proposes a whole new content for a file."""

    name = "write"
    permission = "edit"
    Input = WriteInput
    description = (
        "Create a file, or replace a file's whole content. Prefer edit for changes to existing "
        "files. An existing file must have been read first. The change is proposed to the user, "
        "who applies or rejects it; the result says which."
    )

    async def execute(self, params: WriteInput, ctx: ToolContext) -> ToolResult:
        """Propose the new content."""
        path, shown = _target(ctx, params.file_path)
        if not path.exists():
            return _proposal(ctx, path, shown, None, params.content, None)
        base = _require_fresh_read(ctx, path, shown)
        old = _read_text(path, shown)
        new = params.content
        if "\r\n" in old and "\r\n" not in new:
            new = new.replace("\n", "\r\n")
        return _proposal(ctx, path, shown, old, new, base)


class EditTool(Tool[EditInput]):
    """Proposes a string replacement in a file."""

    name = "edit"
    permission = "edit"
    Input = EditInput
    description = (
        "Replace `old_string` with `new_string` in a file you have read. `old_string` must "
        "match exactly one place (include surrounding lines to make it unique), unless "
        "`replace_all` is true. Small whitespace or indentation differences are tolerated. "
        "The change is proposed to the user, who applies or rejects it."
    )

    async def execute(self, params: EditInput, ctx: ToolContext) -> ToolResult:
        """Find the text (tolerantly), check it is unique, propose the result."""
        path, shown = _target(ctx, params.file_path)
        base = _require_fresh_read(ctx, path, shown)
        original = _read_text(path, shown)
        crlf = "\r\n" in original
        content = original.replace("\r\n", "\n")
        old = params.old_string.replace("\r\n", "\n")
        new = params.new_string.replace("\r\n", "\n")
        if old == new:
            raise ToolError("old_string and new_string are the same: nothing to change")
        spans, how = find_spans(content, old)
        if not spans:
            raise ToolError(
                f"old_string was not found in {shown}. The closest lines are:\n"
                f"{closest_lines(content, old, context=1)}\nRead the file again and copy the "
                "text exactly."
            )
        if len(spans) > 1 and not params.replace_all:
            lines = [content.count("\n", 0, start) + 1 for start, _ in spans]
            raise ToolError(
                f"old_string matches {len(spans)} places in {shown} (lines "
                f"{', '.join(map(str, lines))}); include more surrounding text to pick one, or "
                "set replace_all"
            )
        for start, end in reversed(spans):
            content = content[:start] + new + content[end:]
        if crlf:
            content = content.replace("\n", "\r\n")
        result = _proposal(ctx, path, shown, original, content, base)
        if how != "exact":
            result.text = f"(matched by {how}, not exactly)\n{result.text}"
        result.data["matched_by"] = how
        return result
