"""What PlanGate knows about particular programs, one module per program or family.

Each module holds everything about its programs: the options that take values, how the
command line is normalised (aliases, global options, abbreviations), what the program runs
from its arguments, and which files it reads, writes or deletes. It exports `PROGRAMS`, a
tuple of `base.Program`; this registry indexes them by name for `commands.unwrap` and
`effects.effects`. Adding a program is adding its module, importing it below and adding
its line to `PROGRAMS`; a name claimed by two modules is an error at import.
"""

from __future__ import annotations

from plangate.permissions.programs import (
    archives,
    curl,
    docker,
    editors,
    files,
    find,
    git,
    grep,
    info,
    npm,
    readers,
    sed,
    wrappers,
)
from plangate.permissions.programs.base import Program

PROGRAMS: tuple[Program, ...] = (
    *archives.PROGRAMS,
    *curl.PROGRAMS,
    *docker.PROGRAMS,
    *editors.PROGRAMS,
    *files.PROGRAMS,
    *find.PROGRAMS,
    *git.PROGRAMS,
    *grep.PROGRAMS,
    *info.PROGRAMS,
    *npm.PROGRAMS,
    *readers.PROGRAMS,
    *sed.PROGRAMS,
    *wrappers.PROGRAMS,
)


def _index(programs: tuple[Program, ...]) -> dict[str, Program]:
    index: dict[str, Program] = {}
    for program in programs:
        for name in program.names:
            if name in index:
                raise ValueError(f"two program modules claim {name!r}")
            index[name] = program
    return index


_BY_NAME = _index(PROGRAMS)
_DASHED = tuple((p.dashed, p) for p in PROGRAMS if p.dashed)


def lookup(name: str) -> Program | None:
    """The program named exactly `name`, if a module knows it."""
    return _BY_NAME.get(name)


def lookup_dashed(name: str) -> tuple[str, str] | None:
    """`git-push` -> ("git", "push"): a program named after a family's subcommand."""
    for prefix, program in _DASHED:
        if name.startswith(prefix) and len(name) > len(prefix):
            return program.names[0], name[len(prefix) :]
    return None


__all__ = ["PROGRAMS", "Program", "lookup", "lookup_dashed"]
