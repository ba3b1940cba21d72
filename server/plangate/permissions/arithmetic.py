"""Where bash evaluates text arithmetically, or otherwise as code: array subscripts, substring
offsets, `let`, `(( ))`, numeric tests, integer and reference variables. A variable named in
any of these may hold `a[$(cmd)]`, which runs when it is evaluated. Each check returns the
reason it found, or None.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from plangate.permissions.variables import is_risky_variable
from plangate.permissions.words import Word, evaluate, node_text

ARITHMETIC_TEST = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
_NUMBER = re.compile(r"-?\d+")
# Subscripts and offsets that cannot name a variable: numbers, `@` and `*`.
_STATIC_INDEX = re.compile(r"\s*(-?\s*\d+|@|\*)?\s*")
# Arithmetic in a heredoc body, and a name in it (a variable whose value is evaluated).
_HEREDOC_ARITHMETIC = re.compile(r"\$\(\((.*?)\)\)|\$\[(.*?)\]", re.DOTALL)
_NAMED = re.compile(r"[A-Za-z_$]")
_SUBSCRIPTED_NAME = re.compile(r"\s*[A-Za-z_]\w*\[")
_COMPOUND_KEY = re.compile(r"\[([^\]]*)\]\+?=")
_SUBSCRIPT_REASON = "evaluates an array subscript arithmetically, which can run code"


def reevaluation(words: list[Word]) -> str | None:
    """Why a command evaluates text as code (array subscripts, prompt strings), or None."""
    program = words[0].text
    flags = {w.text for w in words[1:] if w.text.startswith("-")}
    operands = [w.text for w in words[1:] if not w.text.startswith("-")]
    if program == "let":
        return "evaluates arithmetic, which can run code hidden in variables"
    if program == "printf" and "-v" in flags:
        return "assigns a variable by name (printf -v)"
    if program in ("test", "[") and (
        "-v" in flags
        or (flags & ARITHMETIC_TEST and not all(_NUMBER.fullmatch(o) for o in operands if o != "]"))
    ):
        return "compares values arithmetically, which can run code hidden in variables"
    if program in ("declare", "typeset", "local") and any("i" in f or "n" in f for f in flags):
        return "declares integer or reference variables"
    if program == "ulimit" and any(
        not _NUMBER.fullmatch(o) and o not in ("unlimited", "hard", "soft") for o in operands
    ):
        return "evaluates a limit arithmetically (ulimit), which can run code hidden in variables"
    if program in ("mapfile", "readarray") and any("C" in f for f in flags):
        return "runs a callback (mapfile -C)"
    if program == "read" and any(is_risky_variable(o) for o in operands):
        return "reads a value into a variable that changes what later commands run"
    if program in ("read", "unset", "mapfile", "readarray", "wait") and any(
        _SUBSCRIPTED_NAME.match(o) for o in operands
    ):
        return "names an array element, whose subscript bash evaluates arithmetically"
    return None


def arithmetic(node: Node) -> str | None:
    """`$((x))`, `((x))`, `for ((...))`: any variable named there is evaluated."""
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.type in ("variable_name", "simple_expansion", "expansion", "subscript"):
            return "evaluates variables arithmetically, which can run code"
        stack.extend(child.children)
    return None


def subscript(node: Node, source: bytes, associative: set[str]) -> str | None:
    """`arr[x]=1`, `${arr[x]}`, `declare arr[x]`: bash evaluates an indexed array's
    subscript arithmetically, and a variable named there may hold `a[$(cmd)]`."""
    index = node.child_by_field_name("index")
    if index is None:
        index = next((c for c in node.named_children[1:]), None)
    name = node.named_children[0] if node.named_children else None
    if name is not None and node_text(name, source) in associative:
        return None
    if index is not None and not _STATIC_INDEX.fullmatch(node_text(index, source)):
        return _SUBSCRIPT_REASON
    return None


def associative_names(node: Node, source: bytes) -> list[str]:
    """The arrays a `declare -A` declaration makes associative (their subscripts are strings)."""
    flags = "".join(node_text(c, source) for c in node.named_children if c.type == "word")
    if not ("-" in flags and "A" in flags):
        return []
    names: list[str] = []
    for child in node.named_children:
        name = child.child_by_field_name("name") or child
        if child.type in ("variable_assignment", "variable_name"):
            names.append(node_text(name, source))
    return names


def declaration(node: Node, source: bytes) -> str | None:
    """`declare "arr[x]=1"`, `unset 'arr[x]'`, `declare -i n`: quoted names with a subscript
    are still evaluated, and integer or reference variables evaluate what they are given."""
    for child in node.named_children:
        if child.type in ("variable_assignment", "variable_name"):
            continue
        text = evaluate(child, source).text
        keys = _COMPOUND_KEY.findall(text) if "=(" in text else []  # "arr=([x]=1)"
        if (
            _SUBSCRIPTED_NAME.match(text)
            or (text.startswith(("-", "+")) and ("i" in text or "n" in text))
            or any(not _STATIC_INDEX.fullmatch(key) for key in keys)
        ):
            return "evaluates a subscript, or an integer or reference variable"
    return None


def substring(node: Node, source: bytes) -> str | None:
    """`${y:x}`, `${y:1:n}`: the offset and length are arithmetic."""
    after_colon = False
    for child in node.children:
        if child.type == ":":
            after_colon = True
        elif after_colon and child.type not in ("number", "}"):
            text = node_text(child, source).strip()
            if not _STATIC_INDEX.fullmatch(text):
                return "evaluates a substring offset arithmetically"
    return None


def array(node: Node, source: bytes, associative: set[str]) -> str | None:
    """`a=([x]=1)`: each `[key]=` of a compound assignment is evaluated arithmetically
    for an indexed array."""
    target = node.parent.child_by_field_name("name") if node.parent else None
    if target is not None and node_text(target, source) in associative:
        return None
    for child in node.named_children:
        key = _COMPOUND_KEY.match(node_text(child, source))
        if key is not None and not _STATIC_INDEX.fullmatch(key.group(1)):
            return _SUBSCRIPT_REASON
    return None


def numeric_test(node: Node, source: bytes) -> str | None:
    """`[[ x -eq y ]]`, `[[ -v a[x] ]]`: the operands are evaluated arithmetically."""
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.type == "test_operator":
            operator = node_text(child, source)
            if operator == "-v" or operator in ARITHMETIC_TEST:
                return "tests values arithmetically, which can run code"
        stack.extend(child.children)
    return None


def heredoc_arithmetic(text: str) -> bool:
    """True when an unquoted heredoc body evaluates arithmetic that names a variable."""
    return any(_NAMED.search("".join(m)) for m in _HEREDOC_ARITHMETIC.findall(text))
