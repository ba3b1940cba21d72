"""Editors run from the command line: vim and its kin, and the commands given to them.

`vim -c CMD`, `vim +CMD` and `vim --cmd CMD` run an Ex command at start: `!cmd` (or `:!cmd`)
runs cmd through a shell, so its text is checked as a command line (`vim -c '!git push'` is
denied like `git push`), and `w F`, `sav F`, `wq F` write F. The editors are never read-only.
"""

from __future__ import annotations

import re

from plangate.permissions.invocation import Invocation, Unwrapped, Write, values_of
from plangate.permissions.programs.base import Program
from plangate.permissions.words import DYNAMIC, Word

_COMMAND_OPTIONS = ("-c", "--cmd")
_WRITE = re.compile(r"(?:w|write|sav|saveas|wq|x|xit|up|update)!?\s+(\S.*)")


def _commands(args: list[Word]) -> list[Word]:
    """The Ex commands run at start: `-c CMD`, `--cmd CMD` and `+CMD`."""
    given = values_of(args, _COMMAND_OPTIONS)
    given += [Word(w.text[1:], w.dynamic) for w in args if w.text.startswith("+")]
    return [Word(w.text.lstrip(": \t"), w.dynamic) for w in given]


def _normalise(words: list[Word], inv: Invocation, result: Unwrapped) -> list[list[Word]]:
    for command in _commands(words[1:]):
        if command.text.startswith("!"):
            if command.dynamic:
                inv.problems.append("runs a shell command built at run time")
            else:
                result.scripts.append(command.text[1:])
    return [words]


def _writes(args: list[Word], texts: list[str]) -> list[Write]:
    writes: list[Write] = []
    for command in _commands(args):
        match = _WRITE.fullmatch(command.text)
        if match is not None:
            writes.append(Write(Word(match.group(1).strip(), command.dynamic)))
        elif command.dynamic:
            writes.append(Write(Word(DYNAMIC, dynamic=True)))
    return writes


PROGRAMS = (
    Program(
        names=("vim", "vi", "nvim", "view", "vimdiff", "gvim", "ex"),
        normalise=_normalise,
        writes=_writes,
    ),
)
