"""sed and awk: the files their scripts write, and sed's in-place editing.

sed writes its operands with `-i` (`-i.bak`, `-Ei`, `--in-place`, `--in-pla`) and the file of
a `w FILE` command in its script (`-e`, `--expression`, or the first operand); awk writes the
files its script prints into (`print > "out"`). awk, gawk, mawk and nawk read alike.
"""

from __future__ import annotations

import re

from plangate.permissions.invocation import Write, operands_of, values_of
from plangate.permissions.options import find_option
from plangate.permissions.programs.base import Program
from plangate.permissions.words import Word

_SCRIPT = ("-e", "-f", "--expression", "--file")
_WRITE = re.compile(r"(?:^|[;{}\n/])\s*[wW]\s+([^\s;}]+)")
_IN_PLACE = re.compile(r"-[A-Za-z]*i")
_AWK_WRITE = re.compile(r">>?\s*\"([^\"]+)\"")


def _sed(args: list[Word], texts: list[str]) -> list[Write]:
    scripts = values_of(args, _SCRIPT)
    operands = operands_of(args, (*_SCRIPT, "-l", "--line-length", "-s"))
    if not scripts and operands:
        scripts, operands = [operands[0]], operands[1:]
    writes = [Write(Word(m.group(1))) for s in scripts for m in _WRITE.finditer(s.text)]
    in_place = any(
        find_option(t, ("--in-place",)) or (not t.startswith("--") and _IN_PLACE.match(t))
        for t in texts
        if t.startswith("-")
    )
    if in_place:
        writes += [Write(w) for w in operands]
    return writes


def _awk(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(Word(m.group(1))) for w in args for m in _AWK_WRITE.finditer(w.text)]


PROGRAMS = (
    Program(names=("sed",), writes=_sed),
    Program(names=("awk", "gawk", "mawk", "nawk"), writes=_awk),
)
