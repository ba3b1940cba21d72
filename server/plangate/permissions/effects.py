"""What a program does to files: the paths it writes, the paths it reads, and whether it is in
the curated read-only set that runs without asking when no rule names it.

Writes hidden in commands are edits: `tee f`, `cp x f`, `sed -i`, `touch f`, `dd of=f`, `rm f`...
are checked against the edit rules exactly like the edit tool, so `cp x .env` is denied by
`**/*.env*` as surely as an edit of `.env`. Options are read the way getopt reads them
(clusters, glued values, long-option abbreviations): `curl -sSLo .env` writes `.env`.
"""

from __future__ import annotations

from plangate.permissions.invocation import Effects, Invocation
from plangate.permissions.programs import lookup

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
    out = Effects()
    program = lookup(inv.program)
    if program is None:
        return out  # nothing known: no file effects found, and not read-only
    args = inv.argv[1:]
    texts = [w.text for w in args]
    out.read_only = (
        program.read_only
        and not inv.problems
        and inv.escalates is None
        and all(_harmless_variable(name) for name in inv.assignments)
    )
    if program.writes is not None:
        out.writes = program.writes(args, texts)
    if program.guard is not None:
        program.guard(args, texts, out)
    if out.writes:
        out.read_only = False
    if program.reads is not None:
        # Also when the program writes: `cp .env notes.txt` reads `.env` whatever it writes.
        out.reads = program.reads(args, texts)
    if program.root_reads is not None:
        out.root_reads = program.root_reads(args, texts)
    if out.read_only and program.trees is not None:
        out.trees = program.trees(args, texts)
    return out
