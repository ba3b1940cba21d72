"""grep, egrep, fgrep and rg: read-only searches whose first operand is the pattern.

The files searched are checked as reads; the pattern is not a file unless it is given with
`-e`/`-f` (then every operand is a file). `rg --pre CMD` runs CMD on every file searched, so it
takes rg out of the read-only set.
"""

from __future__ import annotations

from plangate.permissions.invocation import Effects
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
)
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


def _rg_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    if any(t.startswith("--pre") for t in texts):
        out.read_only = False


PROGRAMS = (
    Program(names=("grep",), read_only=True, reads=read_operands(_GREP_VALUES, pattern_first=True)),
    Program(names=("egrep", "fgrep"), read_only=True, reads=read_operands(pattern_first=True)),
    Program(
        names=("rg",),
        read_only=True,
        reads=read_operands(_RG_VALUES, pattern_first=True),
        guard=_rg_guard,
    ),
)
