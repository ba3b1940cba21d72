"""Programs whose job is changing files: what each one writes, creates or deletes.

`tee`, `cp`/`install`/`rsync`, `mv`, `ln`, `rm`/`rmdir`/`unlink`/`shred`/`srm`, `touch`,
`truncate`, `mkdir`/`mkfifo`/`mknod`, `chmod`/`chown`/`chgrp` and `dd of=`. Their writes are
checked against the edit rules exactly like the edit tool, so `cp x .env` is denied by
`**/*.env*` as surely as an edit of `.env`. A write is `recursive` when it also changes what
is under the path (deleting or moving a folder, copying into one, `chmod -R`).
"""

from __future__ import annotations

from plangate.permissions.invocation import Write, operands_of, values_of
from plangate.permissions.options import find_option, has_flag
from plangate.permissions.programs.base import Program
from plangate.permissions.words import Word

_COPY_VALUES = (
    "-t",
    "--target-directory",
    "-S",
    "--suffix",
    "-m",
    "--mode",
    "-o",
    "--owner",
    "-g",
    "--group",
    "-e",
    "--rsh",
)
_CHMOD_FLAGS = (
    "-R",
    "-c",
    "-f",
    "-v",
    "--recursive",
    "--changes",
    "--silent",
    "--quiet",
    "--verbose",
    "--preserve-root",
    "--no-preserve-root",
    "--dereference",
    "--no-dereference",
    "-h",
    "-H",
    "-L",
    "-P",
)


def _tee(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w) for w in operands_of(args)]


def _copy_targets(args: list[Word], moves: bool) -> list[Write]:
    target_dir = values_of(args, ("-t", "--target-directory"))
    operands = operands_of(args, _COPY_VALUES)
    writes: list[Write] = []
    if target_dir:
        sources, dest = operands, target_dir[0]
    elif len(operands) >= 2:
        sources, dest = operands[:-1], operands[-1]
    else:
        return [Write(w, recursive=moves) for w in operands]
    writes.append(Write(dest))
    for source in sources:
        name = source.text.rstrip("/").rsplit("/", 1)[-1]
        joined = f"{dest.text.rstrip('/')}/{name}"
        writes.append(Write(Word(joined, dest.dynamic or source.dynamic), recursive=True))
        if moves:
            writes.append(Write(source, recursive=True))
    return writes


def _copy(args: list[Word], texts: list[str]) -> list[Write]:
    return _copy_targets(args, moves=False)


def _move(args: list[Word], texts: list[str]) -> list[Write]:
    return _copy_targets(args, moves=True)


def _link(args: list[Word], texts: list[str]) -> list[Write]:
    operands = operands_of(args, ("-t", "--target-directory", "-S", "--suffix"))
    writes = [Write(w) for w in values_of(args, ("-t", "--target-directory"))]
    if len(operands) >= 2:
        writes.append(Write(operands[-1]))
    elif operands:  # `ln TARGET`: the link is made here, named after the target
        writes.append(Write(Word(operands[0].text.rstrip("/").rsplit("/", 1)[-1])))
    return writes


def _remove(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w, recursive=True) for w in operands_of(args)]


def _touch(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w) for w in operands_of(args, ("-d", "-t", "-r", "--date", "--reference"))]


def _truncate(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w) for w in operands_of(args, ("-s", "-r", "--size", "--reference"))]


def _make(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w) for w in operands_of(args, ("-m", "--mode", "--context"))]


def _change_mode(args: list[Word], texts: list[str]) -> list[Write]:
    # A chmod mode may look like an option (`chmod -w f`): only known flags are options.
    operands = [w for w in args if find_option(w.text, _CHMOD_FLAGS) is None]
    operands = [w for w in operands if not w.text.startswith("--reference")]
    recursive = has_flag(texts, ("-R", "--recursive"))
    has_reference = any(t.startswith("--ref") for t in texts)
    return [Write(w, recursive) for w in (operands if has_reference else operands[1:])]


def _dd(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(Word(w.text[3:], w.dynamic)) for w in args if w.text.startswith("of=")]


PROGRAMS = (
    Program(names=("tee",), writes=_tee),
    Program(names=("cp", "install", "rsync"), writes=_copy),
    Program(names=("mv",), writes=_move),
    Program(names=("ln",), writes=_link),
    Program(names=("rm", "rmdir", "unlink", "shred", "srm"), writes=_remove),
    Program(names=("touch",), writes=_touch),
    Program(names=("truncate",), writes=_truncate),
    Program(names=("mkdir", "mkfifo", "mknod"), writes=_make),
    Program(names=("chmod", "chown", "chgrp"), writes=_change_mode),
    Program(names=("dd",), writes=_dd),
)
