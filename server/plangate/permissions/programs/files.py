"""Programs whose job is changing files: what each one writes, creates or deletes.

`tee`, `sponge`, `shuf -o`, `cp`/`install`/`rsync`, `mv`, `ln`, `rm`/`rmdir`/`unlink`/`shred`/
`srm`, `touch`, `truncate`, `mkdir`/`mkfifo`/`mknod`, `chmod`/`chown`/`chgrp` and `dd of=`.
Their writes are checked against the edit rules exactly like the edit tool, so `cp x .env` is
denied by `**/*.env*` as surely as an edit of `.env`. A write is `recursive` when it also
changes what is under the path (deleting or moving a folder, copying into one, `chmod -R`).
"""

from __future__ import annotations

import posixpath

from plangate.permissions.invocation import Write, is_special_file, operands_of, values_of
from plangate.permissions.options import find_option, has_flag
from plangate.permissions.programs.base import Program, Reads
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
# rsync's value options: filter patterns are not paths (`--exclude .git`).
_RSYNC_VALUES = (
    *_COPY_VALUES,
    "-f",
    "--filter",
    "--exclude",
    "--include",
    "--exclude-from",
    "--include-from",
    "--files-from",
    "--log-file",
    "--log-file-format",
    "--write-batch",
    "--read-batch",
    "-T",
    "--temp-dir",
    "--backup-dir",
    "--partial-dir",
    "--compare-dest",
    "--copy-dest",
    "--link-dest",
    "--chmod",
    "--chown",
    "--rsync-path",
    "--password-file",
    "--out-format",
    "--bwlimit",
    "--timeout",
    "--max-size",
    "--min-size",
    "--port",
    "-B",
    "--block-size",
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


def _shuf(args: list[Word], texts: list[str]) -> list[Write]:
    return [Write(w) for w in values_of(args, ("-o", "--output"))]


def _copy_targets(args: list[Word], moves: bool, values: tuple[str, ...]) -> list[Write]:
    target_dir = values_of(args, ("-t", "--target-directory"))
    operands = operands_of(args, values)
    writes: list[Write] = []
    into: Word | None = None
    if target_dir:
        sources, dest = operands, target_dir[0]
    elif len(operands) >= 2:
        sources, dest = operands[:-1], operands[-1]
        # `cp x DEST` writes DEST/x only when DEST is a folder; with several sources it is.
        into = dest if len(sources) == 1 else None
    else:
        return [Write(w, recursive=moves) for w in operands]
    # The destination itself is written, and what is under it when a folder is copied.
    writes.append(Write(dest, recursive=True))
    for source in sources:
        name = source.text.rstrip("/").rsplit("/", 1)[-1]
        joined = f"{dest.text.rstrip('/')}/{name}"
        writes.append(
            Write(Word(joined, dest.dynamic or source.dynamic), recursive=True, into=into)
        )
        if moves:
            writes.append(Write(source, recursive=True))
    return writes


def _copy(args: list[Word], texts: list[str]) -> list[Write]:
    return _copy_targets(args, moves=False, values=_COPY_VALUES)


def _move(args: list[Word], texts: list[str]) -> list[Write]:
    return _copy_targets(args, moves=True, values=_COPY_VALUES)


def _rsync(args: list[Word], texts: list[str]) -> list[Write]:
    writes = _copy_targets(args, moves=False, values=_RSYNC_VALUES)
    return writes + [Write(w) for w in values_of(args, ("--log-file", "--write-batch"))]


def _sources(values: tuple[str, ...]) -> Reads:
    """A `reads` hook for copies: every operand but the destination is read."""

    def reads(args: list[Word], texts: list[str]) -> list[Word]:
        operands = operands_of(args, values)
        if not values_of(args, ("-t", "--target-directory")):
            operands = operands[:-1]
        return [w for w in operands if not is_special_file(w.text)]

    return reads


def _link(args: list[Word], texts: list[str]) -> list[Write]:
    """The link made, and the file it leads to: a write through the link (`ln -s .env x &&
    echo k > x`) or a hard link (`ln .env x`, the same file) changes the target."""
    operands = operands_of(args, ("-t", "--target-directory", "-S", "--suffix"))
    folders = values_of(args, ("-t", "--target-directory"))
    symbolic = has_flag(texts, ("-s", "--symbolic"))
    writes = [Write(w) for w in folders]
    if folders:
        targets, link = operands, None
    elif len(operands) >= 2:
        targets, link = operands[:-1], operands[-1]
        writes.append(Write(link, recursive=True))
    elif operands:  # `ln TARGET`: the link is made here, named after the target
        targets, link = operands, None
        writes.append(Write(Word(operands[0].text.rstrip("/").rsplit("/", 1)[-1])))
    else:
        return writes
    for target in targets:
        text = target.text
        if symbolic and not posixpath.isabs(text) and not text.startswith("~"):
            # A relative symbolic link is resolved from the folder the link is in.
            base = folders[0].text if folders else posixpath.dirname(link.text) if link else ""
            text = posixpath.join(base, text)
        writes.append(Write(Word(text, target.dynamic), recursive=True))
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


def _dd_reads(args: list[Word], texts: list[str]) -> list[Word]:
    return [Word(w.text[3:], w.dynamic) for w in args if w.text.startswith("if=")]


PROGRAMS = (
    Program(names=("tee", "sponge"), writes=_tee),
    Program(names=("shuf",), writes=_shuf),
    Program(names=("cp", "install"), writes=_copy, reads=_sources(_COPY_VALUES)),
    Program(names=("rsync",), writes=_rsync, reads=_sources(_RSYNC_VALUES)),
    Program(names=("mv",), writes=_move, reads=_sources(_COPY_VALUES)),
    Program(names=("ln",), writes=_link),
    Program(names=("rm", "rmdir", "unlink", "shred", "srm"), writes=_remove),
    Program(names=("touch",), writes=_touch),
    Program(names=("truncate",), writes=_truncate),
    Program(names=("mkdir", "mkfifo", "mknod"), writes=_make),
    Program(names=("chmod", "chown", "chgrp"), writes=_change_mode),
    Program(names=("dd",), writes=_dd, reads=_dd_reads),
)
