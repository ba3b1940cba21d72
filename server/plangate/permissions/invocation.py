"""The vocabulary the generic stages and the program modules share.

An `Invocation` is one program that would run, as `commands.unwrap` finds it; `Unwrapped` is
everything one simple command amounts to. `Write` and `Effects` are what `effects.effects`
says a program does to files. The helpers read a program's arguments the way getopt does
(`operands_of`, `values_of`, `option_word`); `is_special_file` knows the paths that are not files.
Nothing here knows a particular program: that is `programs/`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from plangate.permissions.options import find_option, option_values
from plangate.permissions.words import DYNAMIC, Word


@dataclass
class Invocation:
    """A program that would run, with its normalised arguments."""

    argv: list[Word]
    text: str
    cwd: str | None
    # Why this invocation cannot be analysed statically; non-empty means never allow.
    problems: list[str] = field(default_factory=list)
    # Set when the program runs with more privilege or runs arbitrary configured code.
    escalates: str | None = None
    # `VAR=value` names set for this program (they can change what it does).
    assignments: tuple[str, ...] = ()

    @property
    def program(self) -> str:
        """The program name after normalisation."""
        return self.argv[0].text if self.argv else ""


@dataclass
class Unwrapped:
    """The invocations one simple command amounts to, and shell text it runs."""

    invocations: list[Invocation] = field(default_factory=list)
    # Literal shell source executed by `bash -c`, `eval`, `watch`, `env -S`...: analysed again.
    scripts: list[str] = field(default_factory=list)
    # A shell reading its commands from standard input (fed by a pipe, heredoc or here-string).
    reads_stdin_script: bool = False
    # Pending payloads that run in another directory (`env -C dir cmd`), by id of their words.
    directories: dict[int, str | None] = field(default_factory=dict)
    # Scripts (by index) that run in another directory than the command's.
    script_directories: dict[int, str | None] = field(default_factory=dict)

    def script_from(self, payload: list[Word], inv: Invocation) -> None:
        """`inv` hands `payload` to a shell as one command line: analyse it when literal."""
        if all(w.literal for w in payload):
            self.scripts.append(" ".join(w.text for w in payload))
        else:
            inv.problems.append("runs a computed command line in a shell")
        self.invocations.append(inv)


# Commands still to unwrap: their words, and why they run with more privilege (if they do).
Pending = list[tuple[list[Word], str | None]]


@dataclass(frozen=True)
class Write:
    """A path a command writes; `recursive` when it also changes what is under it. With
    `into`, the write happens only when `into` is a folder (`cp x DEST` writes `DEST/x`)."""

    path: Word
    recursive: bool = False
    into: Word | None = None


@dataclass(frozen=True)
class Tree:
    """A folder a command reads whole (`grep -r x dir`); `hidden`: dot files included."""

    path: Word
    hidden: bool = True


@dataclass
class Effects:
    """The file effects of one invocation."""

    writes: list[Write] = field(default_factory=list)
    reads: list[Word] = field(default_factory=list)
    # Paths read relative to the repository's top, not the working folder (`git show
    # HEAD:.env` run in a subfolder shows the top's `.env`).
    root_reads: list[Word] = field(default_factory=list)
    trees: list[Tree] = field(default_factory=list)
    read_only: bool = False


_SPECIAL_FILES = frozenset(
    {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty", "-"}
)
_FD_FILE = re.compile(r"/(?:dev|proc/self)/fd/\d+")


def is_special_file(path: str) -> bool:
    """Device files and `-` that stand for the terminal or the void, not a real file."""
    if path == "-":
        return True
    normal = posixpath.normpath(path)
    return normal in _SPECIAL_FILES or _FD_FILE.fullmatch(normal) is not None


def operands_of(args: list[Word], value_options: tuple[str, ...] = ()) -> list[Word]:
    """Operands: words that are neither options nor the values of `value_options`."""
    out: list[Word] = []
    skip = False
    done = False
    for word in args:
        if skip:
            skip = False
            continue
        text = word.text
        if not done and text == "--":
            done = True
            continue
        if not done and text.startswith("-") and text != "-" and word.literal:
            hit = find_option(text, value_options)
            skip = hit is not None and hit.value is None
            continue
        out.append(word)
    return out


def values_of(args: list[Word], names: tuple[str, ...]) -> list[Word]:
    """The values given to options `names` (`-o F`, `-oF`, `-so F`, `--out=F`, `--output F`)."""
    texts = [w.text for w in args]
    found: list[Word] = []
    for index, value in option_values(texts, names):
        word = args[index]
        found.append(word if word.text == value else Word(value, word.dynamic, word.expands))
    return found


def asks_for_help(rest: list[Word]) -> bool:
    """True when `--help` (or a lone `-h`) in a subcommand's arguments is an option, not the
    value of one: `git commit --help`, `npm publish x --help`, but not `git commit -m --help`
    (the message is `--help` and the commit happens). Which options take a value is not known,
    so a `--help` right after any option word, or after `--`, does not count."""
    texts = [w.text for w in rest]
    if texts == ["-h"]:
        return True
    for index, text in enumerate(texts):
        if text == "--":
            return False
        if text == "--help" and rest[index].literal:
            return index == 0 or not texts[index - 1].startswith("-")
    return False


def option_word(rest: list[Word], names: tuple[str, ...]) -> Word | None:
    """The value of the first of the options `names` in `rest` (glued or the next word); a
    dynamic word when the value is missing; None when none of them is given."""
    texts = [w.text for w in rest]
    for index, token in enumerate(texts):
        hit = find_option(token, names)
        if hit is None:
            continue
        if hit.value is not None:
            return Word(hit.value, rest[index].dynamic, rest[index].expands)
        return rest[index + 1] if index + 1 < len(rest) else Word(DYNAMIC, dynamic=True)
    return None
