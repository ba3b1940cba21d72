"""grep, glob and list: ripgrep underneath; files the read rules hide are hidden here too."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import sysconfig
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from plangate.layout import STATE_DIR
from plangate.permissions import Action
from plangate.tools.base import Tool, ToolContext, ToolError, ToolResult, workspace_relative

MAX_RESULTS = 100
MAX_LINE = 500
LIST_LIMIT = 500
# Folders nobody wants in a listing even when no .gitignore names them.
LIST_IGNORES = (
    "node_modules",
    ".git",
    "__pycache__",
    ".venv",
    "venv",
    "dist",
    "build",
    STATE_DIR,
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    "target",
)


@cache
def rg_binary() -> str:
    """The `rg` shipped by the pinned ripgrep wheel (beside this Python), else one on PATH."""
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "rg", Path(sys.executable).parent / "rg"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("rg")
    if found is None:
        raise ToolError("ripgrep (rg) is not installed; install PlanGate with its dependencies")
    return found


async def _rg(args: list[str], cwd: Path, limit: int, keep: _Filter) -> tuple[list[str], int]:
    """Run rg; keep the first `limit` lines `keep` accepts and count the lines after them."""
    process = await asyncio.create_subprocess_exec(
        rg_binary(),
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        limit=1 << 20,
    )
    assert process.stdout is not None and process.stderr is not None
    kept: list[str] = []
    async for raw in process.stdout:
        line = raw.decode("utf-8", errors="replace").rstrip("\n")
        if keep(line):
            kept.append(line)
            if len(kept) == limit:
                break
    # Past the cap only the count matters: count newlines in bulk (hidden files included).
    more = 0
    while chunk := await process.stdout.read(1 << 16):
        more += chunk.count(b"\n")
    error = (await process.stderr.read()).decode("utf-8", errors="replace").strip()
    code = await process.wait()
    if code == 2 and not kept:
        raise ToolError(f"search failed: {error.splitlines()[0] if error else 'rg error'}")
    return kept, more


class _Filter:
    """Hides files whose read is not allowed (denied, or needing approval like `.env`)."""

    def __init__(self, ctx: ToolContext, base: Path, separator: str | None) -> None:
        self.ctx = ctx
        self.base = base
        self.separator = separator
        self.seen: dict[str, bool] = {}
        self.hidden = 0
        # rg prints paths relative to `base`; rules see them relative to the workspace.
        self.prefix = os.path.relpath(base.resolve(), ctx.workspace.resolve())

    def __call__(self, line: str) -> bool:
        name = line.split(self.separator, 1)[0] if self.separator else line
        if name == "--" or not name:
            return True
        relative = os.path.normpath(os.path.join(self.prefix, name))
        if not self.ctx.policy.read_may_be_restricted(relative):
            return True  # the common case, decided without resolving the path
        verdict = self.seen.get(name)
        if verdict is None:
            decision = self.ctx.policy.check_read(str(self.base / name))
            verdict = decision.action is Action.ALLOW
            self.seen[name] = verdict
            if not verdict:
                self.hidden += 1
        return verdict


def _search_root(ctx: ToolContext, path: str | None) -> tuple[Path, str]:
    root, shown = workspace_relative(ctx, path or ".")
    if not root.resolve().is_relative_to(ctx.workspace.resolve()):
        raise ToolError(f"{shown} is outside the workspace")
    if not root.exists():
        raise ToolError(f"{shown} does not exist")
    return root, shown


class GrepInput(BaseModel):
    """Search file contents."""

    pattern: str = Field(min_length=1, description="Regular expression (Rust regex syntax)")
    path: str | None = Field(None, description="Folder or file to search; default the workspace")
    include: str | None = Field(None, description="Only files matching this glob, e.g. '*.py'")
    ignore_case: bool = Field(False, description="Case-insensitive search")
    context: int = Field(0, ge=0, le=10, description="Lines of context around each match")


class GrepTool(Tool[GrepInput]):
    """Searches with ripgrep, respecting .gitignore."""

    name = "grep"
    permission = "read"
    Input = GrepInput
    description = (
        "Search file contents with a regular expression (ripgrep; .gitignore is respected). "
        f"Returns `path:line:text`, at most {MAX_RESULTS} lines, and how many more there were. "
        "Use include to narrow by file name."
    )

    async def execute(self, params: GrepInput, ctx: ToolContext) -> ToolResult:
        """Run rg and cap the results."""
        root, shown = _search_root(ctx, params.path)
        args = [
            "--line-number",
            "--with-filename",
            "--color",
            "never",
            "--no-heading",
            "--max-columns",
            str(MAX_LINE),
            "--max-columns-preview",
            "--null",
        ]
        if params.ignore_case:
            args.append("--ignore-case")
        if params.context:
            args += ["--context", str(params.context)]
        if params.include:
            args += ["--glob", params.include]
        args += ["--regexp", params.pattern, "--", "."]
        keep = _Filter(ctx, root, "\x00")
        lines, more = await _rg(args, root, MAX_RESULTS, keep)
        shown_lines = [_grep_line(line) for line in lines]
        if not shown_lines:
            return ToolResult(
                text=f"No matches for {params.pattern!r} in {shown}.", data={"matches": 0}
            )
        text = "\n".join(shown_lines)
        if more:
            text += f"\n\n[{more} more lines not shown; narrow the pattern or use include]"
        if keep.hidden:
            text += f"\n[{keep.hidden} file(s) hidden by the read rules]"
        return ToolResult(
            text=text, data={"matches": len(shown_lines), "more": more, "hidden": keep.hidden}
        )


_CONTEXT_LINE = re.compile(r"\d+-")


def _grep_line(line: str) -> str:
    """`path NUL 12:text` -> `path:12:text`; context lines keep rg's `path-12-text`."""
    name, _, rest = line.partition("\x00")
    name = name.removeprefix("./")
    if not rest:
        return name
    return f"{name}-{rest}" if _CONTEXT_LINE.match(rest) else f"{name}:{rest}"


class GlobInput(BaseModel):
    """Find files by name."""

    pattern: str = Field(min_length=1, description="Glob such as '**/*.py' or 'src/**/test_*'")
    path: str | None = Field(None, description="Folder to search; default the workspace")


class GlobTool(Tool[GlobInput]):
    """Lists files matching a glob, newest first."""

    name = "glob"
    permission = "read"
    Input = GlobInput
    description = (
        "Find files whose path matches a glob (ripgrep --files; .gitignore is respected), newest "
        f"first, at most {MAX_RESULTS}."
    )

    async def execute(self, params: GlobInput, ctx: ToolContext) -> ToolResult:
        """Run `rg --files` with the glob, sorted by modification time."""
        root, shown = _search_root(ctx, params.path)
        args = ["--files", "--color", "never", "--sortr", "modified", "--glob", params.pattern]
        keep = _Filter(ctx, root, None)
        lines, more = await _rg(args, root, MAX_RESULTS, keep)
        if not lines:
            return ToolResult(
                text=f"No files match {params.pattern!r} in {shown}.", data={"files": 0}
            )
        text = "\n".join(lines)
        if more:
            text += f"\n\n[{more} more files not shown; narrow the pattern]"
        return ToolResult(text=text, data={"files": len(lines), "more": more})


class ListInput(BaseModel):
    """Show a folder."""

    path: str | None = Field(None, description="Folder to list; default the workspace")
    ignore: list[str] = Field(default_factory=list, description="Extra globs to leave out")


class ListTool(Tool[ListInput]):
    """A tree of a folder, leaving out ignored and generated folders."""

    name = "list"
    permission = "read"
    Input = ListInput
    description = (
        "Show the files under a folder as a tree (.gitignore and folders such as node_modules, "
        f".git, .venv, dist are left out), at most {LIST_LIMIT} entries."
    )

    async def execute(self, params: ListInput, ctx: ToolContext) -> ToolResult:
        """Collect files with rg and draw them as an indented tree."""
        root, shown = _search_root(ctx, params.path)
        if not root.is_dir():
            raise ToolError(f"{shown} is not a folder")
        args = ["--files", "--color", "never", "--sort", "path"]
        for name in LIST_IGNORES:
            args += ["--glob", f"!**/{name}/**"]
        for pattern in params.ignore:
            args += ["--glob", f"!{pattern}"]
        keep = _Filter(ctx, root, None)
        files, more = await _rg(args, root, LIST_LIMIT, keep)
        text = f"{shown}/\n" + _tree(files)
        if more:
            text += f"\n[{more} more files not shown; list a subfolder]"
        return ToolResult(text=text, data={"files": len(files), "more": more})


def _tree(files: list[str]) -> str:
    lines: list[str] = []
    printed: set[str] = set()
    for file in files:
        parts = file.split("/")
        for depth in range(len(parts) - 1):
            folder = "/".join(parts[: depth + 1])
            if folder not in printed:
                printed.add(folder)
                lines.append(f"{'  ' * (depth + 1)}{parts[depth]}/")
        lines.append(f"{'  ' * len(parts)}{parts[-1]}")
    return "\n".join(lines)
