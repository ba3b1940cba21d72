"""Finding the text an edit replaces: exact first, then tolerant of whitespace.

Models often get indentation or trailing spaces slightly wrong. Like opencode's replacers, we try
a chain of matchers, strictest first, and use the first that finds the text: exact; the same
lines under a different common indentation; the same lines ignoring leading and trailing
whitespace; ignoring runs of whitespace; and for longer blocks, first and last lines anchoring
a similar middle.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator

Span = tuple[int, int]
_WS = re.compile(r"\s+")


def _line_offsets(content: str) -> list[int]:
    offsets = [0]
    for line in content.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    return offsets


def _exact(content: str, old: str) -> Iterator[Span]:
    start = content.find(old)
    while start != -1:
        yield start, start + len(old)
        start = content.find(old, start + len(old))


def _by_lines(normalise: Callable[[str], str]) -> Callable[[str, str], Iterator[Span]]:
    def find(content: str, old: str) -> Iterator[Span]:
        lines = content.split("\n")
        wanted = [normalise(line) for line in old.strip("\n").split("\n")]
        offsets = _line_offsets(content)
        size = len(wanted)
        for i in range(len(lines) - size + 1):
            if [normalise(line) for line in lines[i : i + size]] == wanted:
                yield offsets[i], offsets[i + size] - 1

    return find


def _dedent_block(lines: list[str]) -> list[str]:
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return [line[cut:].rstrip() for line in lines]


def _indentation_flexible(content: str, old: str) -> Iterator[Span]:
    lines = content.split("\n")
    wanted = _dedent_block(old.strip("\n").split("\n"))
    offsets = _line_offsets(content)
    size = len(wanted)
    for i in range(len(lines) - size + 1):
        if _dedent_block(lines[i : i + size]) == wanted:
            yield offsets[i], offsets[i + size] - 1


def _block_anchors(content: str, old: str) -> Iterator[Span]:
    wanted = old.strip("\n").split("\n")
    if len(wanted) < 3:
        return
    first, last = wanted[0].strip(), wanted[-1].strip()
    lines = content.split("\n")
    offsets = _line_offsets(content)
    middle = "\n".join(line.strip() for line in wanted[1:-1])
    for i, line in enumerate(lines):
        if line.strip() != first:
            continue
        for j in range(i + 2, min(len(lines), i + 2 * len(wanted))):
            if lines[j].strip() == last:
                candidate = "\n".join(x.strip() for x in lines[i + 1 : j])
                if difflib.SequenceMatcher(None, candidate, middle).ratio() >= 0.8:
                    yield offsets[i], offsets[j + 1] - 1
                break


REPLACERS: list[tuple[str, Callable[[str, str], Iterator[Span]]]] = [
    ("exact", _exact),
    ("indentation-flexible", _indentation_flexible),
    ("trimmed lines", _by_lines(str.strip)),
    ("whitespace-normalised", _by_lines(lambda line: _WS.sub(" ", line).strip())),
    ("block anchors", _block_anchors),
]


def find_spans(content: str, old: str) -> tuple[list[Span], str]:
    """Spans of `old` in `content` by the first matcher that finds any, and its name."""
    for name, finder in REPLACERS:
        spans = list(finder(content, old))
        if spans:
            return spans, name
    return [], ""


def closest_lines(content: str, old: str, context: int = 0) -> str:
    """The lines of `content` most like `old`, numbered, to help the model retry."""
    lines = content.split("\n")
    wanted = old.strip("\n").split("\n")
    size = max(1, len(wanted))
    target = "\n".join(line.strip() for line in wanted)
    best, best_at = 0.0, 0
    for i in range(max(1, len(lines) - size + 1)):
        window = "\n".join(line.strip() for line in lines[i : i + size])
        ratio = difflib.SequenceMatcher(None, window, target).quick_ratio()
        if ratio > best:
            exact = difflib.SequenceMatcher(None, window, target).ratio()
            if exact > best:
                best, best_at = exact, i
    start = max(0, best_at - context)
    chosen = lines[start : best_at + size + context]
    return "\n".join(f"{n:6d}\t{line}" for n, line in enumerate(chosen, start=start + 1))
