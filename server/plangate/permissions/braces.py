"""Brace expansion as bash does it before anything else: `git p{u,}sh` is `git push psh`.

Quoted and escaped text is left alone, `${` is a parameter expansion, and a group needs a
comma or a `..` sequence at its top level to expand. Used to give the parser a second text in
which every brace group is spelled out, so the commands hidden in them are checked.
"""

from __future__ import annotations

import re

MAX_WORDS = 64
_SEQUENCE = re.compile(r"(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?")
_SEPARATORS = frozenset(" \t\n;&|<>()`")


class TooManyWords(ValueError):
    """A brace group spells out more than MAX_WORDS words: not analysed, asked."""


def expand_text(source: str) -> str:
    """`source` with every unquoted brace group of every word spelled out (or unchanged).
    Raises TooManyWords when a word expands to more than MAX_WORDS words."""
    out: list[str] = []
    token: list[str] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char in _SEPARATORS:
            out.append(_expand_word("".join(token)))
            token = []
            out.append(char)
            i += 1
            continue
        end = _quoted_end(source, i)
        token.append(source[i:end])
        i = end
    out.append(_expand_word("".join(token)))
    return "".join(out)


def _quoted_end(text: str, i: int) -> int:
    """End of the character or quoted run starting at `i` (quotes and escapes kept whole)."""
    char = text[i]
    if char == "\\":
        return min(i + 2, len(text))
    if char == "'":
        end = text.find("'", i + 1)
        return len(text) if end == -1 else end + 1
    if char == '"':
        j = i + 1
        while j < len(text) and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return min(j + 1, len(text))
    return i + 1


def _expand_word(word: str) -> str:
    if "{" not in word:
        return word
    words = _expand(word)
    if len(words) > MAX_WORDS:
        raise TooManyWords(word)
    return " ".join(words)


def _expand(word: str) -> list[str]:
    group = _group(word)
    if group is None:
        return [word]
    start, end, alternatives = group
    results: list[str] = []
    for alternative in alternatives:
        results += _expand(word[:start] + alternative + word[end + 1 :])
        if len(results) > MAX_WORDS:
            break
    return results


def _group(word: str) -> tuple[int, int, list[str]] | None:
    """The first brace group that expands: its `{`, its `}` and its alternatives."""
    i = 0
    while i < len(word):
        char = word[i]
        if char in "'\"\\":
            i = _quoted_end(word, i)
            continue
        if char == "{" and (i == 0 or word[i - 1] != "$"):
            found = _alternatives(word, i)
            if found is not None:
                return i, found[0], found[1]
        i += 1
    return None


def _alternatives(word: str, start: int) -> tuple[int, list[str]] | None:
    depth = 0
    parts: list[str] = []
    last = start + 1
    i = start + 1
    while i < len(word):
        char = word[i]
        if char in "'\"\\":
            i = _quoted_end(word, i)
            continue
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == "}":
            body = word[start + 1 : i]
            if parts:
                return i, [*parts, word[last:i]]
            sequence = _SEQUENCE.fullmatch(body)
            return None if sequence is None else (i, _sequence(sequence))
        elif char == "," and not depth:
            parts.append(word[last:i])
            last = i + 1
        i += 1
    return None


def _sequence(match: re.Match[str]) -> list[str]:
    first, last, step_text = match.groups()
    step = abs(int(step_text)) if step_text and int(step_text) else 1
    if first.lstrip("-").isdigit() and last.lstrip("-").isdigit():
        a, b = int(first), int(last)
        values = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [str(v) for v in list(values)[: MAX_WORDS + 1]]
    if first.isalpha() and last.isalpha():
        a, b = ord(first), ord(last)
        codes = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [chr(c) for c in list(codes)[: MAX_WORDS + 1]]
    return [match.group(0)]
