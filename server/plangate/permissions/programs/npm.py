"""npm, pnpm, yarn and bun: their commands, aliases and abbreviations, and what they execute.

npm's global options may come before the command (`npm --registry r -w pkg publish` runs
publish); its aliases are folded (`npm i` is `npm install`, `npm rm` is `npm uninstall`) and any
unambiguous abbreviation of a command is that command (`npm publ` is `npm publish`). npm's
option parser lets an unknown `--option` swallow the next word, so `npm --foo test publish` may
run test or publish: both readings are returned and checked. `npm exec`, `npm x`, `pnpm exec`,
`pnpm dlx`, `yarn dlx` and `bun x` run their arguments as a command, and `--call`/`-c` a command
line: these are checked too. (`npx` and `bunx` are wrappers, in commands.py.) `npm publish
--help` only prints usage (a `--help` that may be an option's value, `npm publish --tag
--help`, does not count).
"""

from __future__ import annotations

from plangate.permissions.invocation import (
    Invocation,
    Pending,
    Unwrapped,
    asks_for_help,
    option_word,
)
from plangate.permissions.programs.base import Program
from plangate.permissions.words import Word

_COMMANDS = frozenset(
    """
    access adduser audit bugs cache ci completion config dedupe deprecate diff dist-tag docs
    doctor edit exec explain explore find-dupes fund get help help-search hook init install
    install-ci-test install-test link ll login logout ls org outdated owner pack ping pkg
    prefix profile prune publish query rebuild repo restart root run run-script sbom search
    set shrinkwrap star stars start stop team test token undeprecate uninstall unpublish
    unstar update version view whoami i it t tst x add rm un r
    """.split()
)
_ALIASES = {
    "i": "install",
    "t": "test",
    "tst": "test",
    "x": "exec",
    "run-script": "run",
    "add": "install",
    "rm": "uninstall",
    "un": "uninstall",
    "r": "uninstall",
    "it": "install-test",
}
_VALUE_OPTIONS = frozenset(
    """
    --registry --prefix -w --workspace --tag --otp --access --userconfig --globalconfig
    --cache --loglevel --scope -C --dir --filter --cwd
    """.split()
)
_RUNNERS = ("exec", "x", "dlx")
# Commands whose arguments go to another program: a `--help` there may be its.
_RUNS = frozenset({"exec", "dlx", "run", "test", "start", "stop", "restart", "explore"})
_CALL = ("-c", "--call")


def _command(token: str) -> str | None:
    if token in _COMMANDS:
        return _ALIASES.get(token, token)
    # npm accepts any unambiguous abbreviation of a command: `npm publ` is `npm publish`.
    matches = {c for c in _COMMANDS if c.startswith(token) and c not in _ALIASES}
    return matches.pop() if len(token) >= 2 and len(matches) == 1 else None


def _normalise(words: list[Word], inv: Invocation, result: Unwrapped) -> list[list[Word]]:
    readings: list[list[Word]] = []
    i = 1
    swallowed = False  # the previous word is an unknown option that may take this one
    while i < len(words) and len(readings) < 2:
        word = words[i]
        text = word.text
        if text in _VALUE_OPTIONS:
            i += 2
            swallowed = False
            continue
        if text.startswith("-"):
            swallowed = text.startswith("--") and "=" not in text
            i += 1
            continue
        command = _command(text)
        if command is not None and command not in _RUNS and asks_for_help(words[i + 1 :]):
            # `npm publish --help` only prints the command's usage.
            readings.append([words[0], Word("help"), Word(command, word.dynamic, word.expands)])
        elif command is not None:
            readings.append([words[0], Word(command, word.dynamic, word.expands), *words[i + 1 :]])
            if not swallowed:
                break
        elif not swallowed:
            break
        swallowed = False
        i += 1
    return readings or [words]


def _runs(inv: Invocation, result: Unwrapped, pending: Pending) -> bool:
    """`npm exec -- cmd`, `pnpm exec cmd`, `yarn dlx cmd`, `bun x cmd`: check cmd too."""
    if len(inv.argv) < 2 or inv.argv[1].text not in _RUNNERS:
        return False
    tail = inv.argv[2:]
    inline = option_word(tail, _CALL)
    if inline is not None:
        result.script_from([inline], inv)
        return True
    start = next((j for j, w in enumerate(tail) if not w.text.startswith("-")), None)
    if start is not None:
        pending.append((tail[start:], inv.escalates))
    result.invocations.append(inv)
    return True


PROGRAMS = (Program(names=("npm", "pnpm", "yarn", "bun"), normalise=_normalise, runs=_runs),)
