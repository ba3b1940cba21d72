"""Read-only programs that read the files they are given: cat, head, ls, sort, jq, ...

They are allowed without asking when no rule names them, and their file operands are checked
as reads (`cat .env` asks like a read of `.env`). The value options listed per program keep
an option's value from being taken for a file; only options known to take a value are listed,
since a wrong entry would hide the file after it from the check. Some options make these
programs write: `sort -o F`, `uniq IN OUT`, `tree -o F`; `sort --compress-program` runs one.
"""

from __future__ import annotations

import re

from plangate.permissions.invocation import (
    Effects,
    Invocation,
    Tree,
    Unwrapped,
    Write,
    operands_of,
    values_of,
)
from plangate.permissions.options import has_flag
from plangate.permissions.programs.base import Program, read_operands
from plangate.permissions.words import Word

_SORT_VALUES = (
    "-t",
    "-k",
    "-S",
    "-T",
    "--field-separator",
    "--key",
    "--buffer-size",
    "--temporary-directory",
)
_UNIQ_VALUES = ("-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars")
_TREE_VALUES = ("-L", "-P", "-I", "-o", "--filelimit")


def _sort_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    out.writes += [Write(w) for w in values_of(args, ("-o", "--output"))]
    if has_flag(texts, ("--compress-program",)):
        out.read_only = False


def _uniq_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    operands = operands_of(args, _UNIQ_VALUES)
    out.writes += [Write(w) for w in operands[1:2]]  # `uniq IN OUT`


def _tree_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    out.writes += [Write(w) for w in values_of(args, ("-o",))]


def _reader(
    *names: str, values: tuple[str, ...] = (), list_options: tuple[str, ...] = ()
) -> Program:
    return Program(
        names=names, read_only=True, reads=read_operands(values, list_options=list_options)
    )


def _xxd_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    out.writes += [Write(w) for w in operands_of(args, _XXD_VALUES)[1:2]]  # `xxd IN OUT`


def _less_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    out.writes += [Write(w) for w in values_of(args, ("-o", "-O", "--log-file", "--LOG-FILE"))]
    # `+cmd` runs a less command at start (`+!cmd` a shell command, `+s F` saves to F);
    # only a line number or a search is known harmless. A lesskey file binds keys to them.
    starts = [t for t in texts if t.startswith("+") and not _LESS_START.fullmatch(t)]
    if starts or has_flag(texts, ("-k", "--lesskey-file", "--lesskey-src")):
        out.read_only = False


def _less_normalise(words: list[Word], inv: Invocation, result: Unwrapped) -> list[list[Word]]:
    """`less '+!cmd' f` runs cmd through a shell at start: check its text."""
    for word in words[1:]:
        bang = word.text.find("!")
        if word.text.startswith("+") and bang != -1:
            if word.literal:
                result.scripts.append(word.text[bang + 1 :])
            else:
                inv.problems.append("runs a shell command built at run time")
    return [words]


def _file_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    if has_flag(texts, ("-C", "--compile")):  # `file -C -m M` writes M.mgc
        out.writes += [
            Write(Word(w.text + ".mgc", w.dynamic)) for w in values_of(args, ("-m", "--magic-file"))
        ] or [Write(Word("magic.mgc"))]


def _diff_trees(args: list[Word], texts: list[str]) -> list[Tree]:
    if not has_flag(texts, ("-r", "--recursive")):
        return []
    return [Tree(w) for w in _DIFF_READS(args, texts)]


_XXD_VALUES = ("-c", "-g", "-l", "-o", "-s", "-n", "-C", "-R", "-cols", "-len", "-seek")
_LESS_START = re.compile(r"\+(\d+|/[^!|]*|G|g|F)")
_DIFF_VALUES = (
    "-C",
    "-U",
    "-I",
    "-x",
    "-L",
    "-W",
    "--context",
    "--unified",
    "--label",
    "--exclude",
    "--ignore-matching-lines",
    "--width",
    "--tabsize",
    "--line-format",
)
_DIFF_READS = read_operands(
    _DIFF_VALUES, file_options=("--from-file", "--to-file", "-X", "--exclude-from")
)


PROGRAMS = (
    _reader(
        *"""cat rev cmp comm sha256sum sha1sum sha512sum md5sum cksum readlink realpath
        b2sum sum""".split()
    ),
    _reader("wc", list_options=("--files0-from",)),
    _reader("base64", "base32", "basenc", values=("-w", "--wrap")),
    Program(names=("diff",), read_only=True, reads=_DIFF_READS, trees=_diff_trees),
    Program(names=("xxd",), read_only=True, reads=read_operands(_XXD_VALUES), guard=_xxd_guard),
    Program(
        names=("less", "more"),
        normalise=_less_normalise,
        read_only=True,
        reads=read_operands(("-b", "-h", "-j", "-p", "-P", "-t", "-T", "-x", "-y", "-z")),
        guard=_less_guard,
    ),
    Program(
        names=("file",),
        read_only=True,
        reads=read_operands(("-e", "-F", "-P"), file_options=("-m", "--magic-file", "-f")),
        guard=_file_guard,
    ),
    _reader("head", values=("-n", "-c", "--lines", "--bytes")),
    _reader("tail", values=("-n", "-c", "--lines", "--bytes", "-s", "--sleep-interval", "--pid")),
    _reader(
        "cut", values=("-d", "-f", "-b", "-c", "--delimiter", "--fields", "--bytes", "--characters")
    ),
    _reader(
        "du",
        values=("-d", "-t", "-B", "--max-depth", "--threshold", "--block-size"),
        list_options=("--files0-from",),
    ),
    _reader(
        "ls",
        values=("-I", "-w", "-T", "--ignore", "--hide", "--width", "--tabsize", "--block-size"),
    ),
    _reader("stat", values=("-c", "--format", "--printf")),
    _reader("od", values=("-j", "-N", "-t", "-A", "-w")),
    Program(
        names=("hexdump",),
        read_only=True,
        reads=read_operands(("-n", "-s", "-e"), file_options=("-f",)),  # -f: a format file
    ),
    _reader("nl", values=("-b", "-n", "-w", "-s", "-v", "-i")),
    _reader("fold", values=("-w", "--width")),
    _reader("paste", values=("-d", "--delimiters")),
    _reader("tac", values=("-s", "--separator")),
    _reader("strings", values=("-n", "-t", "-e")),
    _reader("column", values=("-s", "-c", "-o")),
    Program(
        names=("sort",),
        read_only=True,
        reads=read_operands(_SORT_VALUES, list_options=("--files0-from",)),
        guard=_sort_guard,
    ),
    Program(names=("uniq",), read_only=True, reads=read_operands(_UNIQ_VALUES), guard=_uniq_guard),
    Program(names=("tree",), read_only=True, reads=read_operands(_TREE_VALUES), guard=_tree_guard),
    # jq's first operand is its filter, unless the filter comes from a file (`-f`).
    Program(
        names=("jq",),
        read_only=True,
        reads=read_operands(("--arg", "--argjson", "--indent"), pattern_first=True),
    ),
)
