"""Shell words -> their literal value, as bash would see it after quote removal.

A word whose value depends on run time (parameter, command or arithmetic expansion) is marked
dynamic; its unknown parts read as DYNAMIC. Unquoted glob or brace characters are marked too:
bash expands them, so such a word is not the literal it looks like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

DYNAMIC = "\x00"

_DYNAMIC_NODES = frozenset(
    {
        "simple_expansion",
        "expansion",
        "command_substitution",
        "process_substitution",
        "arithmetic_expansion",
    }
)
_UNQUOTED_GLOB = re.compile(r"(?<!\\)[*?\[]")
_UNQUOTED_BRACE = re.compile(r"(?<!\\)\{[^{}]*(,|\.\.)[^{}]*(?<!\\)\}")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_STRING_ESCAPE = re.compile(r'\\([$`"\\])')
_ANSI_C = re.compile(
    r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL
)
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


@dataclass(frozen=True)
class Word:
    """One shell word after quote removal."""

    text: str
    dynamic: bool = False
    # Unquoted glob or brace-expansion characters: bash may turn this into other words.
    expands: bool = False

    @property
    def literal(self) -> bool:
        """True when the word is exactly `text` at run time."""
        return not self.dynamic and not self.expands


def node_text(node: Node, source: bytes) -> str:
    """The text of `node` in `source`, the original bytes the tree's offsets refer to."""
    return source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def evaluate(node: Node, source: bytes) -> Word:
    """The value of a word-like node (word, string, concatenation, expansion...) in `source`."""
    kind = node.type
    if kind in _DYNAMIC_NODES:
        return Word(DYNAMIC, dynamic=True)
    if kind == "word":
        raw = node_text(node, source).replace("\\\n", "")
        expands = bool(_UNQUOTED_GLOB.search(raw) or _UNQUOTED_BRACE.search(raw))
        return Word(_ESCAPE.sub(r"\1", raw), expands=expands)
    if kind == "raw_string":
        return Word(node_text(node, source)[1:-1])
    if kind == "ansi_c_string":
        return Word(_decode_ansi_c(node_text(node, source)[2:-1]))
    if kind in ("string", "translated_string"):
        parts: list[str] = []
        dynamic = False
        for child in node.named_children:
            if child.type == "string_content":
                parts.append(
                    _STRING_ESCAPE.sub(r"\1", node_text(child, source).replace("\\\n", ""))
                )
            else:
                value = evaluate(child, source)
                parts.append(value.text)
                dynamic = dynamic or value.dynamic
        return Word("".join(parts), dynamic=dynamic)
    if kind == "concatenation":
        values = [evaluate(child, source) for child in node.children]
        return Word(
            "".join(v.text for v in values),
            dynamic=any(v.dynamic for v in values),
            # tree-sitter splits `-{a,b}` into pieces: look for braces across all of them,
            # quoted pieces standing for text with neither braces nor commas.
            expands=any(v.expands for v in values)
            or bool(_UNQUOTED_BRACE.search(_unquoted_shape(node, source))),
        )
    if kind == "number":
        return Word(node_text(node, source))
    # Anything else (brace expressions, extglobs, regexes in [[ ]]): keep the text, and treat
    # it as something bash rewrites.
    text = node_text(node, source)
    return Word(text, dynamic="$" in text or "`" in text, expands=True)


def _unquoted_shape(node: Node, source: bytes) -> str:
    """A concatenation's text with each quoted or expanded piece replaced by `Q`: brace
    expansion only sees what is left unquoted."""
    return "".join(
        node_text(child, source) if child.type == "word" else "Q" for child in node.children
    )


def _decode_ansi_c(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        head = code[0]
        if head in "xuU" and len(code) > 1:
            return chr(min(int(code[1:], 16), 0x10FFFF))
        if head.isdigit():
            return chr(int(code, 8) & 0xFF)
        if head == "c" and len(code) == 2:
            return chr(ord(code[1].upper()) & 0x1F)
        return _ANSI_SIMPLE.get(code, "\\" + code)

    # Bash ends the string at a NUL byte (`$'a.secret\0x'` is `a.secret`).
    return _ANSI_C.sub(replace, body).split("\x00", 1)[0]
