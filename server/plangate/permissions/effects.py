"""What a program does to files: the paths it writes, the paths it reads, and whether it is in
the curated read-only set that runs without asking when no rule names it.

Writes hidden in commands are edits: `tee f`, `cp x f`, `sed -i`, `touch f`, `dd of=f`, `rm f`...
are checked against the edit rules exactly like the edit tool, so `cp x .env` is denied by
`**/*.env*` as surely as an edit of `.env`. Options are read the way getopt reads them
(clusters, glued values, long-option abbreviations): `curl -sSLo .env` writes `.env`.
"""

from __future__ import annotations

from plangate.permissions.invocation import (
    Effects,
    Invocation,
    Write,
    is_special_file,
    operands_of,
    values_of,
)
from plangate.permissions.options import has_flag
from plangate.permissions.programs import lookup
from plangate.permissions.words import Word

# Programs that only look: allowed without asking when no rule names them and they write nothing.
_READ_ONLY = frozenset(
    """ls cat head tail less more grep egrep fgrep rg wc pwd echo printf which type tree file
    stat du df cut tr diff cmp basename dirname realpath readlink whoami id uname true false
    test [ jq sha256sum sha1sum sha512sum md5sum cksum nl seq cd pushd popd column comm
    paste fold rev tac od hexdump strings printenv locale nproc uptime free date sort uniq
    env command hostname expr sleep :""".split()
)
# Options that take a separate value, for programs whose operands are files they read. Only
# options known to take a value: a wrong entry would hide the file after it from the check.
_READ_VALUE_OPTIONS: dict[str, tuple[str, ...]] = {
    "head": ("-n", "-c", "--lines", "--bytes"),
    "tail": ("-n", "-c", "--lines", "--bytes", "-s", "--sleep-interval", "--pid"),
    "grep": (
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
    ),
    "rg": (
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
    ),
    "cut": ("-d", "-f", "-b", "-c", "--delimiter", "--fields", "--bytes", "--characters"),
    "sort": (
        "-t",
        "-k",
        "-S",
        "-T",
        "--field-separator",
        "--key",
        "--buffer-size",
        "--temporary-directory",
    ),
    "uniq": ("-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars"),
    "du": ("-d", "-t", "-B", "--max-depth", "--threshold", "--block-size"),
    "tree": ("-L", "-P", "-I", "-o", "--filelimit"),
    "ls": ("-I", "-w", "-T", "--ignore", "--hide", "--width", "--tabsize", "--block-size"),
    "stat": ("-c", "--format", "--printf"),
    "od": ("-j", "-N", "-t", "-A", "-w"),
    "hexdump": ("-n", "-s", "-e", "-f"),
    "nl": ("-b", "-n", "-w", "-s", "-v", "-i"),
    "fold": ("-w", "--width"),
    "paste": ("-d", "--delimiters"),
    "tac": ("-s", "--separator"),
    "strings": ("-n", "-t", "-e"),
    "column": ("-s", "-c", "-o"),
    "jq": ("--arg", "--argjson", "--indent"),
}
_READS_FILES = frozenset(
    """cat less more wc file diff cmp comm sha256sum sha1sum sha512sum md5sum cksum readlink
    realpath cd pushd egrep fgrep""".split()
) | frozenset(_READ_VALUE_OPTIONS)
_PATTERN_FIRST = frozenset({"grep", "egrep", "fgrep", "rg", "jq"})
# Variables a read-only command may be given without losing that status; any other one
# (LESSOPEN, PAGER, GIT_EXTERNAL_DIFF, ...) can make it run or write something.
_HARMLESS_VARIABLES = frozenset(
    {
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR",
        "COLORTERM",
        "COLUMNS",
        "LINES",
        "CI",
    }
)


def _harmless_variable(name: str) -> bool:
    return name in _HARMLESS_VARIABLES or name.startswith("LC_")


def effects(inv: Invocation) -> Effects:
    """The files `inv` writes and reads, and whether it is a read-only command."""
    program = inv.program
    spec = lookup(program)
    args = inv.argv[1:]
    texts = [w.text for w in args]
    out = Effects(
        read_only=(program in _READ_ONLY or (spec is not None and spec.read_only))
        and not inv.problems
        and inv.escalates is None
        and all(_harmless_variable(name) for name in inv.assignments)
    )
    if spec is not None and spec.writes is not None:
        out.writes = spec.writes(args, texts)
    if spec is not None and spec.guard is not None:
        spec.guard(args, texts, out)
    else:
        _read_only_guards(program, args, texts, out)
    if out.writes:
        out.read_only = False
    if out.read_only and spec is not None and spec.reads is not None:
        out.reads = spec.reads(args, texts)
    elif out.read_only and program in _READS_FILES:
        out.reads = _read_operands(program, args, texts)
    return out


def _read_only_guards(program: str, args: list[Word], texts: list[str], out: Effects) -> None:
    """Options that turn a usually read-only program into one that writes or runs code."""
    if program == "sort":
        out.writes += [Write(w) for w in values_of(args, ("-o", "--output"))]
        if has_flag(texts, ("--compress-program",)):
            out.read_only = False
    elif program == "uniq":
        operands = operands_of(args, _READ_VALUE_OPTIONS["uniq"])
        out.writes += [Write(w) for w in operands[1:2]]
    elif program == "tree":
        out.writes += [Write(w) for w in values_of(args, ("-o",))]
    elif program == "rg":
        if any(t.startswith("--pre") for t in texts):
            out.read_only = False
    elif program == "date":
        if has_flag(texts, ("-s", "--set")):
            out.read_only = False
    elif program == "hostname":
        if operands_of(args):
            out.read_only = False
    elif program == "command":
        out.read_only = out.read_only and texts[:1] in (["-v"], ["-V"])


def _read_operands(program: str, args: list[Word], texts: list[str]) -> list[Word]:
    operands = operands_of(args, _READ_VALUE_OPTIONS.get(program, ()))
    if program in _PATTERN_FIRST and not has_flag(texts, ("-e", "-f", "--regexp", "--file")):
        operands = operands[1:]
    return [w for w in operands if not is_special_file(w.text)]
