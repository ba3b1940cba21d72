"""Project instructions: the AGENTS.md / CLAUDE.md files (and opencode's `instructions`
entries) a session puts in the system prompt, found the way the agent file's own tool finds
them.

opencode (its V1 loader): from the workspace up to the repository root, every AGENTS.md, or
when there is none anywhere, every CLAUDE.md (never both); then the user's global file (the
first of `~/.config/opencode/AGENTS.md`, `~/.claude/CLAUDE.md`); then the `instructions`
entries of opencode.json (globs tried from the workspace up to the repository root).
Claude Code: `~/.claude/CLAUDE.md`, then CLAUDE.md (or .claude/CLAUDE.md) and CLAUDE.local.md
of every folder from the repository root down to the workspace. Claude Code reads no AGENTS.md;
PlanGate adds the project's after them (a project keeps one set of instructions for every
agent), and opencode.json's `instructions` entries last, for agents of either format.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from plangate.agents.definition import AgentFormat

# Instructions are in every request: beyond this many characters in all, the rest is left out
# (with a warning) rather than crowd out the conversation.
MAX_CHARS = 100_000


@dataclass
class Instructions:
    """The instruction files a session reads, in prompt order, and what was left out."""

    files: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def prompt(self) -> str:
        """The block for the system prompt ("" when there are none)."""
        return "".join(
            f"\n\nInstructions from: {path}\n{text.strip()}" for path, text in self.files
        )


def home() -> Path:
    """The user's home folder (HOME; tests point it elsewhere)."""
    return Path(os.environ.get("HOME") or Path.home())


def config_home() -> Path:
    """`$XDG_CONFIG_HOME`, by default `~/.config`."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or home() / ".config")


def repository_root(workspace: Path) -> Path:
    """The nearest folder from `workspace` up that holds `.git`; the workspace without one."""
    for folder in (workspace, *workspace.parents):
        if (folder / ".git").exists():
            return folder
    return workspace


def upward(workspace: Path) -> list[Path]:
    """The workspace and its parents up to the repository root, nearest first."""
    root = repository_root(workspace)
    folders = [workspace]
    for folder in workspace.parents:
        if not folder.is_relative_to(root):
            break
        folders.append(folder)
    return folders


def find(workspace: Path, fmt: AgentFormat, entries: list[str] | None = None) -> list[Path]:
    """The instruction files for an agent of format `fmt`, in prompt order."""
    workspace = workspace.resolve()
    if fmt is AgentFormat.CLAUDE:
        agents_md = [
            f / "AGENTS.md" for f in reversed(upward(workspace)) if (f / "AGENTS.md").is_file()
        ]
        return _unique([*_claude(workspace), *agents_md, *_entries(workspace, entries or [])])
    return _unique([*_opencode(workspace), *_entries(workspace, entries or [])])


def _opencode(workspace: Path) -> list[Path]:
    found: list[Path] = []
    for name in ("AGENTS.md", "CLAUDE.md"):
        hits = [folder / name for folder in upward(workspace) if (folder / name).is_file()]
        if hits:
            found += hits
            break
    for candidate in (config_home() / "opencode" / "AGENTS.md", home() / ".claude" / "CLAUDE.md"):
        if candidate.is_file():
            found.append(candidate)
            break
    return found


def _entries(workspace: Path, entries: list[str]) -> list[Path]:
    """opencode.json's `instructions`: files and globs, from the workspace up."""
    found: list[Path] = []
    for entry in entries:
        if entry.startswith(("http://", "https://")):
            continue  # not fetched: PlanGate reaches only the model's API
        pattern = str(home() / entry[2:]) if entry.startswith("~/") else entry
        if os.path.isabs(pattern):
            found += sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
            continue
        for folder in upward(workspace):
            found += sorted(
                Path(p)
                for p in glob.glob(str(folder / pattern), recursive=True)
                if Path(p).is_file()
            )
    return _unique(found)


def _claude(workspace: Path) -> list[Path]:
    found = [home() / ".claude" / "CLAUDE.md"]
    for folder in reversed(upward(workspace)):
        found += [
            folder / "CLAUDE.md",
            folder / ".claude" / "CLAUDE.md",
            folder / "CLAUDE.local.md",
        ]
    return _unique([path for path in found if path.is_file()])


def _unique(paths: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def load(
    workspace: Path,
    fmt: AgentFormat,
    entries: list[str] | None = None,
    refused: Callable[[Path], str | None] = lambda _path: None,
) -> Instructions:
    """The instruction files' texts, in order, within MAX_CHARS; unreadable or left-out files
    are noted. `refused` says why a file named by an `instructions` entry may not be read
    (the agent's read rules): such a file stays out of the prompt, as the read tool keeps it
    from the model."""
    result = Instructions()
    used = 0
    named = set(_entries(workspace.resolve(), entries or []))
    for path in find(workspace, fmt, entries):
        why = refused(path) if path in named else None
        if why is not None:
            result.notes.append(f"{path}: left out ({why})")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.notes.append(f"{path}: not read ({exc})")
            continue
        if used + len(text) > MAX_CHARS:
            result.notes.append(
                f"{path}: left out ({len(text):,} characters): the instructions are capped at "
                f"{MAX_CHARS:,} characters in all"
            )
            continue
        used += len(text)
        result.files.append((path, text))
    return result
