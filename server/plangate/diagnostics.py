"""Positions in source files and the diagnostics that point at them.

Agent files are user-written configuration: every problem found in one is reported with the
file, line and column of the offending key or value, so editors can show it as a diagnostic.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    """How bad a diagnostic is; errors make an agent file unusable."""

    ERROR = "error"
    WARNING = "warning"
    # What PlanGate maps or leaves out of a file its own tool accepts (a gateway model id, a
    # Claude Code key with no PlanGate equivalent): shown, never a problem.
    INFO = "info"


class SourcePos(BaseModel):
    """A place in a file: 1-based line and column."""

    model_config = ConfigDict(frozen=True)

    file: Path
    line: int
    column: int = 1

    def display(self, base: Path | None = None) -> str:
        """`file:line:col`, with the file relative to `base` when it lies under it."""
        return f"{display_path(self.file, base)}:{self.line}:{self.column}"


class TextFix(BaseModel):
    """A quick fix: replace columns `column` to `end_column` (1-based, end excluded) of one
    line of the diagnostic's file with `new_text`."""

    model_config = ConfigDict(frozen=True)

    title: str
    line: int
    column: int
    end_column: int
    new_text: str


class Diagnostic(BaseModel):
    """One error or warning about a source file, with the edit that fixes it when one is sure."""

    model_config = ConfigDict(frozen=True)

    pos: SourcePos
    severity: Severity
    code: str
    message: str
    fix: TextFix | None = None

    def display(self, base: Path | None = None) -> str:
        """The conventional `file:line:col: severity: message` form compilers use."""
        return f"{self.pos.display(base)}: {self.severity.value}: {self.message} [{self.code}]"


def display_path(path: Path, base: Path | None = None) -> str:
    """`path` relative to `base` (default: the current directory) when under it, else as given."""
    return _display(str(path), str(base) if base is not None else os.getcwd())


@lru_cache(maxsize=1024)
def _display(path: str, base: str) -> str:
    # Cached: rule positions are shown in every decision's reason.
    try:
        return str(Path(path).resolve().relative_to(Path(base).resolve()))
    except (ValueError, OSError):
        return path
