"""grep, egrep, fgrep and rg: read-only searches whose first operand is the pattern.

The files searched are checked as reads; the pattern is not a file unless it is given with
`-e`/`-f` (then every operand is a file). `rg --pre CMD` runs CMD on every file searched, so it
takes rg out of the read-only set. A recursive search (`grep -r`, rg always) reads every file
under its folders (the working folder when none is named): each is checked as a read, so
`grep -r PASSWORD .` asks as `cat .env` does. rg leaves dot files out unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from plangate.permissions.invocation import Effects, Tree, values_of
from plangate.permissions.options import has_flag
from plangate.permissions.programs.base import Program, read_operands
from plangate.permissions.words import Word

# Options that take a separate value. Only options known to take a value: a wrong entry
# would hide the file after it from the check.
_GREP_VALUES = (
    "-e",
    "-f",
    "-m",
    "-A",
    "-B",
    "-C",
    "--regexp",
    "--file",
    "--max-count",
    "--after-context",
    "--before-context",
    "--context",
    "--label",
    "--include",
    "--exclude",
    "--exclude-dir",
    "-d",
    "-D",
    "--directories",
    "--devices",
)
# Files of patterns: their lines are printed back where they match, so they are read.
_GREP_FILES = ("-f", "--file", "--exclude-from")
_RG_VALUES = (
    "-e",
    "-f",
    "-g",
    "-t",
    "-T",
    "-m",
    "-A",
    "-B",
    "-C",
    "-M",
    "-j",
    "-d",
    "-E",
    "--regexp",
    "--file",
    "--glob",
    "--iglob",
    "--type",
    "--type-not",
    "--max-count",
    "--after-context",
    "--before-context",
    "--context",
    "--max-columns",
    "--threads",
    "--max-depth",
    "--encoding",
    "--sort",
    "--sortr",
    "--color",
    "--colors",
    "--type-add",
    "--max-filesize",
    "--context-separator",
    "--path-separator",
)


_GREP_FILE_READS = read_operands(_GREP_VALUES, pattern_first=True, file_options=_GREP_FILES)
_RECURSIVE = ("-r", "-R", "--recursive", "--dereference-recursive")
_RG_HIDDEN = ("--hidden", "-.", "-u", "--unrestricted")


def _trees(
    value_options: tuple[str, ...], *, always: bool, hidden: tuple[str, ...] = ()
) -> Callable[[list[Word], list[str]], list[Tree]]:
    files = read_operands(value_options, pattern_first=True)

    def trees(args: list[Word], texts: list[str]) -> list[Tree]:
        recurse = ("-d" in texts and "recurse" in texts) or "--directories=recurse" in texts
        if not (always or recurse or has_flag(texts, _RECURSIVE)):
            return []
        dot_files = not hidden or has_flag(texts, hidden)
        return [Tree(word, dot_files) for word in files(args, texts) or [Word(".")]]

    return trees


def _grep_reads(args: list[Word], texts: list[str]) -> list[Word]:
    """The files named, and `--include` globs: a search limited to `.env*` under a folder is
    after what those globs match, on disk now or not."""
    includes = values_of(args, ("--include",))
    return [*_GREP_FILE_READS(args, texts), *(Word(w.text, w.dynamic, True) for w in includes)]


def _rg_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    if any(t.startswith("--pre") for t in texts):
        out.read_only = False


PROGRAMS = (
    Program(
        names=("grep",),
        read_only=True,
        reads=_grep_reads,
        trees=_trees(_GREP_VALUES, always=False),
    ),
    Program(
        names=("egrep", "fgrep"),
        read_only=True,
        reads=read_operands(pattern_first=True),
        trees=_trees((), always=False),
    ),
    Program(
        names=("rg",),
        read_only=True,
        reads=read_operands(
            _RG_VALUES, pattern_first=True, file_options=("-f", "--file", "--ignore-file")
        ),
        trees=_trees(_RG_VALUES, always=True, hidden=_RG_HIDDEN),
        guard=_rg_guard,
    ),
)
