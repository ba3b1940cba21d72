"""sed and awk: the files their scripts write and read, and the commands they run.

sed's script is parsed the way GNU sed parses it, so that only real commands count: `w FILE`,
`W FILE` and the `w FILE` flag of `s` write FILE; `r FILE`, `R FILE` read it; `e CMD` runs CMD
through a shell (checked as a command line), and `e` alone or the `e` flag of `s` run text made
at run time. A `w` inside an address regex (`sed -n '/w .env/p'`), a replacement or the text of
`a`/`i`/`c` is not a command. sed writes its operands with `-i` (`-i.bak`, `-Ei`, `--in-place`,
`--in-pla`). sed is read-only when its script parses and neither writes nor runs anything;
a script from a file (`-f`) cannot be seen and is asked.

awk writes the files its script prints into (`print > "out"`; `> $1` is a name known only at
run time), runs the commands it pipes to or from and those given to `system()` (their text is
checked as a command line), and `gawk -i inplace` rewrites its operands. awk, gawk, mawk and
nawk read alike; a program from a file (`-f`), an included library or an extension is asked.
`perl -pi -e CODE F` rewrites F like `sed -i` (the code itself is asked as inline code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plangate.permissions.invocation import (
    Effects,
    Invocation,
    Unwrapped,
    Write,
    is_special_file,
    operands_of,
    values_of,
)
from plangate.permissions.options import find_option
from plangate.permissions.programs.base import Program
from plangate.permissions.words import DYNAMIC, Word

_SCRIPT = ("-e", "--expression")
_SCRIPT_FILE = ("-f", "--file")
_SED_VALUES = (*_SCRIPT, *_SCRIPT_FILE, "-l", "--line-length")
_IN_PLACE = re.compile(r"-[A-Za-z]*i")
# What an unparsed script may write, for a script this parser does not understand.
_LOOSE_WRITE = re.compile(r"(?:^|[;{}\n/])\s*[wW]\s+([^\s;}]+)")
_NO_ARGUMENT = frozenset("=dDgGhHnNpPxzF")


@dataclass
class SedScript:
    """What a sed script does besides printing."""

    writes: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    # `e` alone, or the `e` flag of `s`: the pattern space runs as a command.
    runs_text: bool = False


class _Unparsed(Exception):
    """The script is not one this parser understands."""


class _SedParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.out = SedScript()

    def parse(self) -> SedScript:
        while self._skip(" \t\n;"):
            self._address()
            self._skip(" \t")
            while self._peek() == "!":
                self.i += 1
                self._skip(" \t")
            self._command()
        return self.out

    def _peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def _skip(self, chars: str) -> bool:
        """Skip `chars`; True when there is more to read."""
        while self.i < len(self.text) and self.text[self.i] in chars:
            self.i += 1
        return self.i < len(self.text)

    def _address(self) -> None:
        self._one_address()
        self._skip(" \t")
        if self._peek() == ",":
            self.i += 1
            self._skip(" \t")
            if self._peek() in ("+", "~"):
                self.i += 1
            self._one_address()

    def _one_address(self) -> None:
        char = self._peek()
        if char.isdigit():
            while self._peek().isdigit() or self._peek() == "~":
                self.i += 1
        elif char == "$":
            self.i += 1
        elif char in ("/", "\\"):
            if char == "\\":
                self.i += 1
            delimiter = self._peek()
            if not delimiter or delimiter in "\n\\":
                raise _Unparsed
            self.i += 1
            self._until(delimiter)
            while self._peek() in ("I", "M"):
                self.i += 1

    def _until(self, delimiter: str, regex: bool = True) -> str:
        """Read up to an unescaped `delimiter` (outside a bracket expression in a regex)."""
        start = self.i
        while self.i < len(self.text):
            char = self.text[self.i]
            if char == "\\":
                self.i += 2
                continue
            if char == "[" and regex:
                self._bracket()
                continue
            if char == delimiter:
                self.i += 1
                return self.text[start : self.i - 1]
            if char == "\n" and regex:
                raise _Unparsed
            self.i += 1
        raise _Unparsed

    def _bracket(self) -> None:
        end = self.i + 1
        if end < len(self.text) and self.text[end] == "^":
            end += 1
        if end < len(self.text) and self.text[end] == "]":
            end += 1
        while end < len(self.text) and self.text[end] != "]":
            if self.text.startswith(("[:", "[.", "[="), end):
                close = self.text.find(self.text[end + 1] + "]", end + 2)
                end = close + 2 if close != -1 else len(self.text)
                continue
            end += 1
        if end >= len(self.text):
            raise _Unparsed
        self.i = end + 1

    def _rest_of_line(self) -> str:
        end = self.text.find("\n", self.i)
        end = len(self.text) if end == -1 else end
        value = self.text[self.i : end]
        self.i = end
        return value

    def _label(self) -> None:
        while self.i < len(self.text) and self.text[self.i] not in ";\n}":
            self.i += 1

    def _command(self) -> None:
        char = self._peek()
        self.i += 1
        if char in ("{", "}") or char in _NO_ARGUMENT:
            return
        if char == "#":
            self._rest_of_line()
        elif char in (":", "b", "t", "T", "v"):
            self._skip(" \t")
            self._label()
        elif char in ("l", "L", "q", "Q"):
            self._skip(" \t")
            while self._peek().isdigit():
                self.i += 1
        elif char in ("a", "i", "c"):
            self._text()
        elif char in ("r", "R", "w", "W"):
            self._skip(" \t")
            name = self._rest_of_line()
            (self.out.writes if char in "wW" else self.out.reads).append(name)
        elif char == "e":
            self._skip(" \t")
            command = self._rest_of_line()
            if command.strip():
                self.out.commands.append(command)
            else:
                self.out.runs_text = True
        elif char == "s":
            self._substitute()
        elif char == "y":
            delimiter = self._peek()
            self.i += 1
            self._until(delimiter, regex=False)
            self._until(delimiter, regex=False)
        else:
            raise _Unparsed

    def _text(self) -> None:
        """The text of a, i, c: to the end of the line, continued by a trailing backslash."""
        while self.i < len(self.text):
            char = self.text[self.i]
            if char == "\\":
                self.i += 2
                continue
            if char == "\n":
                return
            self.i += 1

    def _substitute(self) -> None:
        delimiter = self._peek()
        if not delimiter or delimiter in "\n\\":
            raise _Unparsed
        self.i += 1
        self._until(delimiter)
        self._until(delimiter, regex=False)
        while self.i < len(self.text):
            flag = self.text[self.i]
            if flag in "gpiImM" or flag.isdigit():
                self.i += 1
            elif flag == "e":
                self.out.runs_text = True
                self.i += 1
            elif flag == "w":
                self.i += 1
                self._skip(" \t")
                self.out.writes.append(self._rest_of_line())
                return
            else:
                return


def parse_sed(text: str) -> SedScript | None:
    """What the sed script `text` writes, reads and runs; None when it does not parse."""
    try:
        return _SedParser(text).parse()
    except _Unparsed:
        return None


def _sed_scripts(args: list[Word]) -> tuple[list[Word], list[Word]]:
    """The scripts given and the operands (the first operand is the script without -e)."""
    scripts = values_of(args, _SCRIPT)
    operands = operands_of(args, _SED_VALUES)
    if not scripts and not values_of(args, _SCRIPT_FILE) and operands:
        scripts, operands = [operands[0]], operands[1:]
    return scripts, operands


def _in_place(texts: list[str]) -> bool:
    return any(
        find_option(t, ("--in-place",)) or (not t.startswith("--") and _IN_PLACE.match(t))
        for t in texts
        if t.startswith("-")
    )


def _sed_normalise(words: list[Word], inv: Invocation, result: Unwrapped) -> list[list[Word]]:
    scripts, _ = _sed_scripts(words[1:])
    for script in scripts:
        parsed = parse_sed(script.text) if script.literal else None
        if parsed is None:
            continue  # not read-only (the guard); its writes are looked for loosely
        result.scripts += parsed.commands  # `e CMD` runs CMD through a shell
        if parsed.runs_text:
            inv.problems.append("runs text made at run time as a command (sed e)")
    return [words]


def _sed_writes(args: list[Word], texts: list[str]) -> list[Write]:
    scripts, operands = _sed_scripts(args)
    writes: list[Write] = []
    for script in scripts:
        parsed = parse_sed(script.text) if script.literal else None
        if parsed is None:
            writes += [Write(Word(m.group(1))) for m in _LOOSE_WRITE.finditer(script.text)]
            if not script.literal:
                writes.append(Write(Word(DYNAMIC, dynamic=True)))
        else:
            writes += [Write(Word(name)) for name in parsed.writes]
    if _in_place(texts):
        writes += [Write(w) for w in operands]
    return writes


def _sed_guard(args: list[Word], texts: list[str], out: Effects) -> None:
    scripts, _ = _sed_scripts(args)
    parsed = [parse_sed(s.text) if s.literal else None for s in scripts]
    if not scripts or None in parsed or values_of(args, _SCRIPT_FILE):
        out.read_only = False  # a script that cannot be seen or read


def _sed_reads(args: list[Word], texts: list[str]) -> list[Word]:
    scripts, operands = _sed_scripts(args)
    reads = [w for w in operands if not is_special_file(w.text)]
    for script in scripts:
        parsed = parse_sed(script.text) if script.literal else None
        if parsed is not None:
            reads += [Word(name) for name in parsed.reads if not is_special_file(name)]
    return reads


# awk: redirections of print/printf, pipes, system(), getline from a file.
_AWK_STRING = r'"((?:[^"\\]|\\.)*)"'
_AWK_WRITE = re.compile(r">>?\s*" + _AWK_STRING)
_AWK_WRITE_COMPUTED = re.compile(r"\bprintf?\b[^;{}\n]*?>>?\s*(?![\s\"=>])")
_AWK_PIPE_TO = re.compile(r"\|&?\s*" + _AWK_STRING)
_AWK_PIPE_FROM = re.compile(_AWK_STRING + r"\s*\|&?\s*getline")
_AWK_SYSTEM = re.compile(r"\bsystem\s*\(\s*" + _AWK_STRING + r"\s*\)")
_AWK_RUNS = re.compile(r"\bsystem\s*\(|\|")
_AWK_READ = re.compile(r"getline[^<\n;]*<\s*" + _AWK_STRING)
_AWK_VALUES = ("-F", "-v", "--assign", "--field-separator")
_AWK_SOURCE = ("-e", "--source")
_AWK_CODE_FILES = ("-f", "--file", "-i", "--include", "-l", "--load", "-E", "--exec")


def _awk_programs(args: list[Word]) -> tuple[list[Word], list[Word]]:
    """The program texts (`-e`/`--source` or the first operand, none from a file) and the
    operands that are files or assignments."""
    operands = operands_of(args, (*_AWK_VALUES, *_AWK_SOURCE, *_AWK_CODE_FILES))
    sources = values_of(args, _AWK_SOURCE)
    if sources or values_of(args, ("-f", "--file", "-E", "--exec")):
        return sources, operands
    return (operands[:1], operands[1:]) if operands else ([], [])


def _awk_normalise(words: list[Word], inv: Invocation, result: Unwrapped) -> list[list[Word]]:
    args = words[1:]
    programs, _ = _awk_programs(args)
    libraries = values_of(args, ("-i", "--include", "-l", "--load"))
    if any(w.text not in ("inplace", "inplace.awk") for w in libraries) or values_of(
        args, ("-f", "--file", "-E", "--exec")
    ):
        inv.problems.append("runs awk code from a file")
    for program in programs:
        if not program.literal:
            inv.problems.append("runs awk code computed at run time")
            continue
        text = program.text
        literal = [
            *(m.group(1) for m in _AWK_PIPE_TO.finditer(text)),
            *(m.group(1) for m in _AWK_PIPE_FROM.finditer(text)),
            *(m.group(1) for m in _AWK_SYSTEM.finditer(text)),
        ]
        result.scripts += [_awk_unescape(command) for command in literal]
        if len(_AWK_RUNS.findall(text)) > len(literal):
            inv.problems.append("runs a command awk builds at run time")
        if "@include" in text or "@load" in text:
            inv.problems.append("runs awk code from a file")
    return [words]


def _awk_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _awk_writes(args: list[Word], texts: list[str]) -> list[Write]:
    programs, operands = _awk_programs(args)
    writes: list[Write] = []
    for program in programs:
        text = program.text
        writes += [Write(Word(_awk_unescape(m.group(1)))) for m in _AWK_WRITE.finditer(text)]
        if _AWK_WRITE_COMPUTED.search(text):
            writes.append(Write(Word(DYNAMIC, dynamic=True)))  # `print > $1`
    if any(w.text in ("inplace", "inplace.awk") for w in values_of(args, ("-i", "--include"))):
        writes += [Write(w) for w in operands if "=" not in w.text]
    return writes


def _awk_reads(args: list[Word], texts: list[str]) -> list[Word]:
    programs, operands = _awk_programs(args)
    reads = [w for w in operands if "=" not in w.text and not is_special_file(w.text)]
    for program in programs:
        reads += [Word(_awk_unescape(m.group(1))) for m in _AWK_READ.finditer(program.text)]
    return reads


_PERL_VALUES = ("-e", "-E", "-M", "-m", "-I", "-x", "-l", "-0", "-C", "-F", "-d", "-D")


def _perl_writes(args: list[Word], texts: list[str]) -> list[Write]:
    """`perl -pi -e CODE F` (`-i.bak`, `-i` in a cluster) rewrites the files F."""
    in_place = False
    for text in texts:
        if text == "--":
            break
        if text.startswith("-") and not text.startswith("--"):
            cluster = text[1:]
            # Letters before a value-taking one are flags; `-i` may carry a backup suffix.
            for letter in cluster:
                if letter == "i":
                    in_place = True
                    break
                if f"-{letter}" in _PERL_VALUES:
                    break
    if not in_place:
        return []
    operands = operands_of(args, _PERL_VALUES)
    if not values_of(args, ("-e", "-E")):
        operands = operands[1:]  # the first operand is the script file
    return [Write(w) for w in operands if not is_special_file(w.text)]


PROGRAMS = (
    Program(names=("perl",), writes=_perl_writes),
    Program(
        names=("sed",),
        normalise=_sed_normalise,
        read_only=True,
        reads=_sed_reads,
        writes=_sed_writes,
        guard=_sed_guard,
    ),
    Program(
        names=("awk", "gawk", "mawk", "nawk"),
        normalise=_awk_normalise,
        reads=_awk_reads,
        writes=_awk_writes,
    ),
)
