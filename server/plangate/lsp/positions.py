r"""Positions as LSP counts them: lines end at `\n`, `\r\n` or `\r` and nowhere else, and
characters are UTF-16 code units."""

from __future__ import annotations

import re

# LSP's line breaks, and only them: `str.splitlines` also splits on form feeds, U+2028 and
# other characters that editors keep inside a line, which put edits on the wrong lines.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lsp_lines(text: str) -> list[str]:
    r"""`text` split into lines as LSP counts them (`\n`, `\r\n`, `\r`), breaks kept."""
    return _LINE.findall(text)


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units, as LSP counts characters."""
    return len(text.encode("utf-16-le")) // 2
