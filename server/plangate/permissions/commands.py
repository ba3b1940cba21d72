"""From a simple command to the programs it really runs.

Normalises the command word (quotes are gone already; `/usr/bin/git` -> `git`), peels wrappers
that run their arguments (`env`, `sudo`, `timeout`, `xargs`, `bash -c`, ...), and marks what
cannot be analysed statically (eval, source, script files, inline interpreter code). The
wrappers' options are in wrappers.py, the shells' and interpreters' in interpreters.py. What is
particular to one program (git's global options, npm's abbreviations, `find -exec`, ...) is
in its module under `programs/`: this module asks the registry to normalise the command line
(`git -C . commit` -> `git commit`) and for the commands the program runs from its arguments.
"""

from __future__ import annotations

import re
from dataclasses import replace

from plangate.permissions.interpreters import (
    SHELLS,
    STDIN_FILES,
    check_interpreter,
    check_shell,
)
from plangate.permissions.invocation import Invocation, Pending, Unwrapped, option_word
from plangate.permissions.programs import lookup, lookup_dashed
from plangate.permissions.shell import SimpleCommand
from plangate.permissions.variables import is_risky_variable
from plangate.permissions.words import DYNAMIC, Word
from plangate.permissions.wrappers import (
    DETACH,
    ELEVATE,
    MAX_UNWRAP,
    WRAPPER_OPTIONS,
    after_settings,
    env_payload,
    inline_script,
    moved,
    parallel,
    runner_payload,
    wrapper_payload,
    wrapper_writes,
)

# A package runner's `name@version` is the program `name` (`npx npm@10 publish`, `pnpm dlx
# npm@10 publish`, `corepack pnpm@8 publish`).
_VERSIONED = re.compile(r"([A-Za-z0-9][\w.-]*)@[\w.^~<>=*-]+")


def unwrap(command: SimpleCommand) -> Unwrapped:
    """Peel wrappers off `command` and normalise each program that would run."""
    result = Unwrapped()
    pending: Pending = [(list(command.words), None)]
    steps = 0
    while pending:
        words, escalates = pending.pop(0)
        # A payload runs where its wrapper put it (`env -C dir cmd`), and so does what it runs.
        here = result.directories.pop(id(words), command.cwd)
        steps += 1
        if steps > MAX_UNWRAP:
            result.invocations.append(
                Invocation(words, command.text, here, ["wraps too many commands"])
            )
            break
        before, scripts = len(pending), len(result.scripts)
        moved = command if here == command.cwd else replace(command, cwd=here)
        _unwrap_one(words, escalates, moved, result, pending)
        for entry, _ in pending[before:]:
            result.directories.setdefault(id(entry), here)
        if here != command.cwd:
            # `env -C .git sh -c 'echo x > config'`: the shell's text runs there too.
            result.script_directories.update(
                dict.fromkeys(range(scripts, len(result.scripts)), here)
            )
    return result


def _unwrap_one(
    words: list[Word],
    escalates: str | None,
    command: SimpleCommand,
    result: Unwrapped,
    pending: Pending,
) -> None:
    inv = Invocation(
        words, command.text, command.cwd, escalates=escalates, assignments=command.assignments
    )
    if not words:
        return
    head = words[0]
    if head.dynamic:
        inv.problems.append("computes the command name at run time")
        result.invocations.append(inv)
        return
    if head.expands:
        inv.problems.append("uses glob or brace expansion in the command name")
        result.invocations.append(inv)
        return
    program = head.text
    if "/" in program:
        if program.startswith("/"):
            program = program.rstrip("/").rsplit("/", 1)[-1]
        else:
            inv.problems.append("runs a script file")
            result.invocations.append(inv)
            return
    versioned = _VERSIONED.fullmatch(program)
    if versioned is not None and (lookup(versioned.group(1)) or versioned.group(1) in SHELLS):
        program = versioned.group(1)  # no program is named `npm@10`: a runner fetched npm
    words = [Word(program), *words[1:]]
    inv.argv = words
    rest = words[1:]

    inline = inline_script(program, rest)
    if inline is not None:
        result.script_from([inline], inv)
        return
    runner = runner_payload(program, rest)
    if runner is not None:
        if runner:
            pending.append((runner, escalates))
        else:
            result.invocations.append(inv)
        return
    if program == "parallel":
        parallel(rest, result, inv)
        return
    if program == "cross-env-shell":
        # Settings, then the rest joined into a line for a shell.
        result.script_from(after_settings(rest, 0), inv)
        return
    if program in WRAPPER_OPTIONS:
        payload = wrapper_payload(program, rest)
        if program == "env":
            payload = env_payload(rest, result, inv)
            directory = option_word(rest[: len(rest) - len(payload)], ("-C", "--chdir"))
            if directory is not None and payload:
                result.directories[id(payload)] = moved(command.cwd, directory)
        settings = rest[: len(rest) - len(payload)]
        wrapper_writes(program, settings, result, inv)
        risky = [w.text.split("=", 1)[0] for w in settings if "=" in w.text]
        if program in ("dotenv", "cross-env") and any(is_risky_variable(n) for n in risky):
            inv.problems.append("sets a variable that changes what the command runs")
        if program in DETACH:
            escalates = DETACH[program]
        if program == "command" and any(w.text in ("-v", "-V") for w in rest[:1]):
            result.invocations.append(inv)  # `command -v x` only looks a name up
            return
        if program == "watch" and payload and not any(w.text in ("-x", "--exec") for w in rest):
            result.script_from(payload, inv)  # watch hands its arguments to `sh -c`
            return
        if program in ELEVATE:
            escalates = f"runs as another user ({program})"
        if program == "xargs":
            payload = payload or [Word("echo")]
            payload = [*payload, Word(DYNAMIC, dynamic=True)]  # xargs appends its input
        if payload:
            if program in ELEVATE:
                inv.escalates = escalates
            if program in ELEVATE or inv.problems:
                result.invocations.append(inv)  # asked for itself, whatever the payload is
            pending.append((payload, escalates))
            return
        result.invocations.append(inv)
        return
    if program in SHELLS or program == "su":
        check_shell(rest, result, inv)
        return
    dashed = lookup_dashed(program)
    if dashed is not None:
        # A dashed program (/usr/lib/git-core/git-push) is its family's subcommand.
        family, sub = dashed
        words = [Word(family), Word(sub), *rest]
        inv.argv = words
        rest = words[1:]
        program = family
    if program == "eval":
        if rest and rest[0].text == "--":
            rest = rest[1:]  # `eval -- 'cmd'`: the end of (no) options
        if all(w.literal for w in rest):
            result.scripts.append(" ".join(w.text for w in rest))
        inv.problems.append("runs text through eval")
        result.invocations.append(inv)
        return
    if program in ("source", "."):
        if rest and rest[0].text == "--":
            rest = rest[1:]
        if rest and (rest[0].dynamic or rest[0].text in STDIN_FILES):
            # `source /dev/stdin`, `source <(echo cmd)`: what is printed or fed is the script.
            result.reads_stdin_script = True
        inv.problems.append("runs a script file in this shell")
        result.invocations.append(inv)
        return
    if program in ("alias", "unalias"):
        # The alias's text runs wherever its name is used (with expand_aliases): check it.
        result.scripts += [
            w.text.split("=", 1)[1] for w in rest if w.literal and "=" in w.text.lstrip("=")
        ]
        inv.problems.append("defines an alias")
        result.invocations.append(inv)
        return
    spec = lookup(program)
    check_interpreter(program, rest, inv)
    readings = [words]
    if spec is not None and spec.normalise is not None:
        readings = spec.normalise(words, inv, result)
    inv.argv = readings[0]
    if spec is not None and spec.runs is not None and spec.runs(inv, result, pending):
        return
    result.invocations.append(inv)
    for reading in readings[1:]:
        result.invocations.append(replace(inv, argv=reading))


def printed(command: SimpleCommand) -> list[str]:
    """What `echo` or `printf` would print, as text a shell reading the pipe might run:
    echo's words; printf's format with its escapes read, and each argument on its own
    (`printf '%s\\n' 'git push' | bash`). Nothing when a word is computed at run time."""
    words = command.words
    if words[0].text not in ("echo", "printf") or not all(w.literal for w in words[1:]):
        return []
    texts = [w.text for w in words[1:]]
    if words[0].text == "echo" or not texts:
        return [" ".join(texts)]
    format_text = texts[0].replace("\\n", "\n").replace("\\t", "\t")
    arguments = iter(texts[1:])
    filled = _DIRECTIVE.sub(lambda _: next(arguments, ""), format_text)
    return [filled, *texts[1:]]


_DIRECTIVE = re.compile(r"%[-+ #0-9.]*[sbdiqcu]")
