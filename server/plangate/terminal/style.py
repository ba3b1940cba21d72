"""Colours for the terminal, off when the output is not a terminal or NO_COLOR is set."""

from __future__ import annotations

import os
from typing import TextIO

CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


class Style:
    """Wraps text in ANSI colours when enabled."""

    def __init__(self, out: TextIO, enabled: bool | None = None) -> None:
        if enabled is None:
            enabled = out.isatty() and "NO_COLOR" not in os.environ
        self.enabled = enabled

    def __call__(self, text: str, *names: str) -> str:
        if not self.enabled or not names:
            return text
        codes = ";".join(CODES[name] for name in names)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def diff(self, diff: str) -> str:
        """A unified diff with additions green and removals red."""
        lines = []
        for line in diff.splitlines():
            if line.startswith(("+++", "---")):
                lines.append(self(line, "bold"))
            elif line.startswith("+"):
                lines.append(self(line, "green"))
            elif line.startswith("-"):
                lines.append(self(line, "red"))
            elif line.startswith("@@"):
                lines.append(self(line, "cyan"))
            else:
                lines.append(line)
        return "\n".join(lines)
