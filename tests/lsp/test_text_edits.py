"""Previews carry the changed lines only; applied as LSP applies them, they give the new text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from plangate.lsp.approvals import text_edits

PIECES = ["a\n", "b\n", "def f():\n", "é😀\n", "\n", "tail", ""]
lines = st.lists(st.sampled_from(PIECES), max_size=8)


def apply(old: str, edits: list[tuple[types.Range, str]]) -> str:
    """Apply edits the way an LSP client does: positions in UTF-16 code units of the old text."""
    rows = old.split("\n")

    def offset(position: types.Position) -> int:
        before = sum(len(row) + 1 for row in rows[: position.line])
        units = rows[position.line].encode("utf-16-le")[: position.character * 2]
        return before + len(units.decode("utf-16-le"))

    result = old
    for where, text in sorted(edits, key=lambda e: offset(e[0].start), reverse=True):
        result = result[: offset(where.start)] + text + result[offset(where.end) :]
    return result


@given(lines, lines)
def test_edits_turn_the_old_text_into_the_new(old: list[str], new: list[str]) -> None:
    before, after = "".join(old), "".join(new)
    assert apply(before, text_edits(before, after)) == after


def test_one_changed_line_is_one_small_edit() -> None:
    old = "".join(f"line {i}\n" for i in range(100))
    new = old.replace("line 50\n", "line fifty\n")
    [(where, text)] = text_edits(old, new)
    assert (where.start.line, where.end.line, text) == (50, 51, "line fifty\n")
