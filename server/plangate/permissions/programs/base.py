"""What a program module tells the engine: a `Program`, its names and up to seven hooks.

The two generic stages ask the registry (`programs/__init__.py`) about a program by name and
call the hooks it has; a hook left out means the program has nothing special there.

In `commands.unwrap`, after wrappers, shells and interpreters are dealt with:

- `normalise(words, inv, result)` rewrites the command line the way the program reads it
  (`git -C . stage x` -> `git add x`) and returns every plausible reading, the one to match
  first. It may mark `inv` (problems, escalation, working directory) and add shell text it
  runs to `result.scripts`.
- `runs(inv, result, pending)` finds commands the program runs from its arguments (`find
  -exec`, `npm exec`) and appends them to `pending`; it returns True when it has also
  appended `inv` to `result` itself.

In `effects.effects`:

- `writes(args, texts)`: the files the program writes (`args` are the words after the
  program name, `texts` their text).
- `guard(args, texts, out)`: options that make a usually read-only program write (add to
  `out.writes`) or run code (set `out.read_only` to False).
- `read_only`: the program is in the curated read-only set (allowed when no rule names it,
  it writes nothing and nothing marks it).
- `reads(args, texts)`: the files the program reads (also when it writes: `cp .env x`),
  checked against the read rules.
- `root_reads(args, texts)`: files read relative to the repository's top (git's `REV:path`).
- `trees(args, texts)`: the folders a read-only run reads whole (`grep -r`); every file in
  them is checked against the read rules.
- `finds_repository`: the program looks for its repository from the working folder up; a
  read-only run in a folder of the workspace that holds another repository is asked.
- `shows_tracked(args, texts)`: the run shows the contents of files the repository tracks
  without naming them; when it tracks a file the read rules guard, the run reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from plangate.permissions.invocation import (
    Effects,
    Invocation,
    Pending,
    Tree,
    Unwrapped,
    Write,
    is_special_file,
    operands_of,
    values_of,
)
from plangate.permissions.options import has_flag
from plangate.permissions.words import DYNAMIC, Word

Normalise = Callable[[list[Word], Invocation, Unwrapped], list[list[Word]]]
Runs = Callable[[Invocation, Unwrapped, Pending], bool]
Writes = Callable[[list[Word], list[str]], list[Write]]
Guard = Callable[[list[Word], list[str], Effects], None]
Reads = Callable[[list[Word], list[str]], list[Word]]
Trees = Callable[[list[Word], list[str]], list[Tree]]


@dataclass(frozen=True)
class Program:
    """What the engine knows about one program (or a family that behaves alike)."""

    names: tuple[str, ...]
    # Programs named `<dashed><sub>` are `<names[0]> <sub>` (git's `git-push`).
    dashed: str | None = None
    normalise: Normalise | None = None
    runs: Runs | None = None
    read_only: bool = False
    reads: Reads | None = None
    root_reads: Reads | None = None
    trees: Trees | None = None
    writes: Writes | None = None
    guard: Guard | None = None
    # The program looks for its repository from the working folder up (git): a repository
    # made inside the workspace brings its own configuration, which can run programs.
    finds_repository: bool = False
    # The run shows the contents of tracked files it does not name (`git log -p`, `git diff`).
    shows_tracked: Callable[[list[Word], list[str]], bool] | None = None


_PATTERN_FILES = ("-e", "-f", "--regexp", "--file")


def read_operands(
    value_options: tuple[str, ...] = (),
    *,
    pattern_first: bool = False,
    file_options: tuple[str, ...] = (),
    list_options: tuple[str, ...] = (),
) -> Reads:
    """A `reads` hook: the operands are the files read (not the values of `value_options`,
    not `/dev/stdin` and the like). With `pattern_first`, the first operand is a pattern
    unless one is given with `-e`/`-f` (grep, rg, jq). The values of `file_options` are
    files read too (`date -f F`, `diff --from-file=F`); those of `list_options` are files
    naming more files to read (`wc --files0-from=F`), which are known only at run time."""
    options = (*value_options, *file_options, *list_options)

    def reads(args: list[Word], texts: list[str]) -> list[Word]:
        operands = operands_of(args, options)
        if pattern_first and not has_flag(texts, _PATTERN_FILES):
            operands = operands[1:]
        operands += values_of(args, (*file_options, *list_options))
        if values_of(args, list_options):
            operands.append(Word(DYNAMIC, dynamic=True))
        return [w for w in operands if not is_special_file(w.text)]

    return reads
