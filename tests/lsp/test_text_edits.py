"""Previews carry the changed lines only; applied as LSP applies them, they give the new text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from plangate.lsp.approvals import text_edits
from tests.lsp.editor import apply_text_edits as apply

# Besides plain lines: the characters `str.splitlines` takes for line breaks and LSP does not
# (form feed, vertical tab, file separator, NEL, U+2028), and LSP's other breaks (\r\n, \r).
PIECES = [
    "a\n",
    "b\n",
    "def f():\n",
    "é😀\n",
    "\n",
    "tail",
    "",
    "page\x0cbreak\n",
    "v\x0btab\n",
    "sep\x1c\x85\u2028\n",
    "crlf\r\n",
    "cr\r",
    "\r",
]
lines = st.lists(st.sampled_from(PIECES), max_size=8)


@given(lines, lines)
def test_edits_turn_the_old_text_into_the_new(old: list[str], new: list[str]) -> None:
    before, after = "".join(old), "".join(new)
    assert apply(before, text_edits(before, after)) == after


def test_one_changed_line_is_one_small_edit() -> None:
    old = "".join(f"line {i}\n" for i in range(100))
    new = old.replace("line 50\n", "line fifty\n")
    [(where, text)] = text_edits(old, new)
    assert (where.start.line, where.end.line, text) == (50, 51, "line fifty\n")


def test_a_form_feed_keeps_its_line() -> None:
    """The case that lost a line: a file with a form feed, one line changed after it."""
    old = "header\n\x0c\nsection one\nvalue = 1\n"
    new = old.replace("value = 1", "value = 2")
    [(where, text)] = text_edits(old, new)
    assert (where.start.line, where.end.line, text) == (3, 4, "value = 2\n")
    assert apply(old, text_edits(old, new)) == new
