"""Wrappers that run a command (their payload is unwrapped in commands.py) and also write a
file of their own: `strace -o FILE`, `ltrace -o FILE`, `time -o FILE`. Only the wrapper's own
options reach this module, so a `-o` of the command it runs is not taken for theirs."""

from __future__ import annotations

from plangate.permissions.invocation import Write, values_of
from plangate.permissions.programs.base import Program
from plangate.permissions.words import Word


def _writes(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w) for w in values_of(args, ("-o", "--output"))]


PROGRAMS = (Program(names=("strace", "ltrace", "time"), writes=_writes),)
