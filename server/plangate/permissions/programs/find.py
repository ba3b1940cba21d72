"""find: the commands it runs (`-exec`, `-execdir`, `-ok`, `-okdir`), what it writes and reads.

`find . -exec cmd {} ;` runs cmd once per file: cmd is checked as a command of its own, with
`{}` standing for a path known only at run time. find is read-only unless it deletes
(`-delete`) or writes a file (`-fprint`, `-fprint0`, `-fls`, `-fprintf`); it reads its starting
points, the operands before the first expression.
"""

from __future__ import annotations

from plangate.permissions.invocation import (
    Effects,
    Invocation,
    Pending,
    Unwrapped,
    Write,
    is_special_file,
)
from plangate.permissions.programs.base import Program
from plangate.permissions.words import DYNAMIC, Word

_RUNS = ("-exec", "-execdir", "-ok", "-okdir")
_WRITES = ("-fprint", "-fprint0", "-fls", "-fprintf")


def _runs(inv: Invocation, result: Unwrapped, pending: Pending) -> bool:
    """`find -exec cmd {} ;` runs cmd once per file: check it as a command of its own."""
    rest = inv.argv[1:]
    i = 0
    kept: list[Word] = [inv.argv[0]]
    while i < len(rest):
        text = rest[i].text
        if text in _RUNS:
            j = i + 1
            payload: list[Word] = []
            while j < len(rest) and rest[j].text not in (";", "+"):
                word = rest[j]
                payload.append(Word(DYNAMIC, dynamic=True) if "{}" in word.text else word)
                j += 1
            if payload:
                pending.append((payload, inv.escalates))
            kept.append(Word(text))
            i = j + 1
            continue
        kept.append(rest[i])
        i += 1
    inv.argv = kept
    result.invocations.append(inv)
    return True


def _guard(args: list[Word], texts: list[str], out: Effects) -> None:
    for index, text in enumerate(texts[:-1]):
        if text in _WRITES:
            out.writes.append(Write(args[index + 1]))
    if "-delete" in texts:
        out.read_only = False


def _reads(args: list[Word], texts: list[str]) -> list[Word]:
    operands = []
    for word in args:  # the starting points come before the first expression
        if word.text.startswith(("-", "(", "!")):
            break
        operands.append(word)
    return [w for w in operands if not is_special_file(w.text)]


PROGRAMS = (Program(names=("find",), runs=_runs, read_only=True, reads=_reads, guard=_guard),)
