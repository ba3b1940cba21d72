"""From a simple command to the programs it really runs.

Normalises the command word (quotes are gone already; `/usr/bin/git` -> `git`), peels wrappers
that run their arguments (`env`, `sudo`, `timeout`, `xargs`, `bash -c`, ...), and marks what
cannot be analysed statically (eval, source, script files, inline interpreter code). What is
particular to one program (git's global options, npm's abbreviations, `find -exec`, ...) is
in its module under `programs/`: this module asks the registry to normalise the command line
(`git -C . commit` -> `git commit`) and for the commands the program runs from its arguments.
"""

from __future__ import annotations

import re
from dataclasses import replace

from plangate.permissions.invocation import Invocation, Pending, Unwrapped, option_word
from plangate.permissions.options import find_option
from plangate.permissions.programs import lookup, lookup_dashed
from plangate.permissions.shell import SimpleCommand, is_risky_variable
from plangate.permissions.words import DYNAMIC, Word

MAX_UNWRAP = 16

SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh"})
_INLINE_CODE = {
    "node": ("-e", "--eval", "-p", "--print"),
    "nodejs": ("-e", "--eval", "-p", "--print"),
    "perl": ("-e", "-E"),
    "ruby": ("-e",),
    "php": ("-r",),
    "lua": ("-e",),
    "osascript": ("-e",),
    "deno": ("eval",),
    "bun": ("-e", "--eval"),
}
_PYTHON = re.compile(r"python[0-9.]*|pypy[0-9.]*")
_INTERPRETERS = frozenset(
    {"node", "nodejs", "perl", "ruby", "php", "lua", "deno", "bun", "Rscript"}
)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Options that take a separate value, per wrapper; the payload starts at the first other word.
_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "env": _names("-u --unset -C --chdir -S --split-string"),
    "sudo": _names(
        "-u -g -C -D -h -p -r -t -U -T --user --group --close-from --chdir --host --prompt"
        " --role --type --other-user --command-timeout"
    ),
    "doas": _names("-u -C"),
    "nice": _names("-n --adjustment"),
    "ionice": _names("-c -n --class --classdata"),
    "timeout": _names("-s --signal -k --kill-after"),
    "stdbuf": _names("-i -o -e --input --output --error"),
    "time": _names("-o --output -f --format"),
    "exec": _names("-a"),
    "watch": _names("-n --interval -d --differences -q --equexit"),
    "setsid": frozenset(),
    "nohup": frozenset(),
    "command": frozenset(),
    "builtin": frozenset(),
    "coproc": frozenset(),
    "busybox": frozenset(),
    "chronic": frozenset(),
    "unbuffer": frozenset(),
    "caffeinate": _names("-w -t"),
    "taskset": _names("-c --cpu-list"),
    "flock": _names("-w --timeout -E --conflict-exit-code"),
    "script": _names(
        "-E --echo -I --log-in -O --log-out -B --log-io -T --log-timing -m --logging-format"
        " -o --output-limit"
    ),
    "npx": _names("-p --package"),
    "bunx": _names("-p --package"),
    "xargs": _names(
        "-I -L -n -P -s -d -E -a --max-args --max-procs --delimiter --arg-file --max-lines"
        " --max-chars --process-slot-var"
    ),
}
_ELEVATE = frozenset({"sudo", "doas"})


def unwrap(command: SimpleCommand) -> Unwrapped:
    """Peel wrappers off `command` and normalise each program that would run."""
    result = Unwrapped()
    pending: Pending = [(list(command.words), None)]
    steps = 0
    while pending:
        words, escalates = pending.pop(0)
        steps += 1
        if steps > MAX_UNWRAP:
            result.invocations.append(
                Invocation(words, command.text, command.cwd, ["wraps too many commands"])
            )
            break
        _unwrap_one(words, escalates, command, result, pending)
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
    words = [Word(program), *words[1:]]
    inv.argv = words
    rest = words[1:]

    inline = _inline_script(program, rest)
    if inline is not None:
        result.script_from([inline], inv)
        return
    if program in _VALUE_OPTIONS:
        payload = _wrapper_payload(program, rest)
        if program == "env":
            payload = _env_payload(rest, result, inv)
        if program == "command" and any(w.text in ("-v", "-V") for w in rest[:1]):
            result.invocations.append(inv)  # `command -v x` only looks a name up
            return
        if program == "watch" and payload and not any(w.text in ("-x", "--exec") for w in rest):
            result.script_from(payload, inv)  # watch hands its arguments to `sh -c`
            return
        if program in _ELEVATE:
            escalates = f"runs as another user ({program})"
        if program == "xargs":
            payload = payload or [Word("echo")]
            payload = [*payload, Word(DYNAMIC, dynamic=True)]  # xargs appends its input
        if payload:
            if program in _ELEVATE:
                inv.escalates = escalates
                result.invocations.append(inv)
            pending.append((payload, escalates))
            return
        result.invocations.append(inv)
        return
    if program in SHELLS or program == "su":
        _shell(rest, result, inv)
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
        if all(w.literal for w in rest):
            result.scripts.append(" ".join(w.text for w in rest))
        inv.problems.append("runs text through eval")
        result.invocations.append(inv)
        return
    if program in ("source", "."):
        if rest and rest[0].text in ("/dev/stdin", "-", "/proc/self/fd/0", "/dev/fd/0"):
            result.reads_stdin_script = True
        inv.problems.append("runs a script file in this shell")
        result.invocations.append(inv)
        return
    if program in ("alias", "unalias"):
        inv.problems.append("defines an alias")
        result.invocations.append(inv)
        return
    spec = lookup(program)
    _interpreter(program, rest, inv)
    readings = [words]
    if spec is not None and spec.normalise is not None:
        readings = spec.normalise(words, inv, result)
    inv.argv = readings[0]
    if spec is not None and spec.runs is not None and spec.runs(inv, result, pending):
        return
    result.invocations.append(inv)
    for reading in readings[1:]:
        result.invocations.append(replace(inv, argv=reading))


def _wrapper_payload(program: str, rest: list[Word]) -> list[Word]:
    """Skip a wrapper's options (and its positional setting, for timeout) to its payload."""
    value_options = _VALUE_OPTIONS[program]
    i = 0
    while i < len(rest):
        text = rest[i].text
        if text == "--":
            i += 1
            break
        if program in _ELEVATE and "=" in text and not text.startswith("-"):
            i += 1  # sudo VAR=value cmd
            continue
        if not text.startswith("-") or text == "-" or program in ("busybox", "coproc"):
            break
        hit = find_option(text, value_options)
        i += 2 if hit is not None and hit.value is None else 1
    payload = rest[i:]
    if program == "timeout" and payload:
        payload = payload[1:]  # the duration
    if program == "taskset" and payload and not any(w.text.startswith("-c") for w in rest):
        payload = payload[1:]  # the CPU mask
    if program == "flock" and payload:
        payload = payload[1:]  # the lock file
    return payload


_ENV_VALUE_OPTIONS = ("-u", "--unset", "-C", "--chdir", "-S", "--split-string")


# Wrappers whose option hands them a command line to run through a shell.
_INLINE_OPTIONS = {
    "flock": ("-c", "--command"),
    "script": ("-c", "--command"),
    "npx": ("-c", "--call"),
    "su": ("-c", "--command"),
}


def _inline_script(program: str, rest: list[Word]) -> Word | None:
    """The command line given to `flock -c`, `script -c`, `npx -c`, `su -c`."""
    names = _INLINE_OPTIONS.get(program)
    return None if names is None else option_word(rest, names)


def _env_payload(rest: list[Word], result: Unwrapped, inv: Invocation) -> list[Word]:
    i = 0
    while i < len(rest):
        word = rest[i]
        text = word.text
        if text == "--":
            i += 1
            break
        if text.startswith("-") and text != "-":
            hit = find_option(text, _ENV_VALUE_OPTIONS)
            if hit is not None and hit.name in ("-S", "--split-string"):
                value = hit.value if hit.value is not None else None
                if value is None and i + 1 < len(rest):
                    value = rest[i + 1].text if rest[i + 1].literal else None
                if value:
                    result.scripts.append(value)  # env -S splits its text into a command
                else:
                    inv.problems.append("runs a computed command line (env -S)")
                return []
            i += 2 if hit is not None and hit.value is None else 1
            continue
        if "=" in text and not text.startswith("="):
            name = text.split("=", 1)[0]
            if is_risky_variable(name):
                inv.problems.append(f"sets {name}, which changes what the command runs")
            i += 1
            continue
        break
    return rest[i:]


def _shell(rest: list[Word], result: Unwrapped, inv: Invocation) -> None:
    """`bash -c 'text'` runs text we can analyse; `bash file` and bare `bash` we cannot."""
    i = 0
    inline = False
    while i < len(rest):
        text = rest[i].text
        if text == "--":
            i += 1
            break
        if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if text.startswith(("-", "+")) and len(text) > 1:
            if not text.startswith("--") and "c" in text[1:]:
                inline = True
            i += 1
            continue
        break
    operands = rest[i:]
    if inv.program == "su":
        inline = any(w.text in ("-c", "--command") for w in rest)
        operands = [rest[j + 1] for j, w in enumerate(rest[:-1]) if w.text in ("-c", "--command")]
        if not inline:
            inv.escalates = "runs a shell as another user (su)"
    if inline and operands:
        script = operands[0]
        if script.literal:
            result.scripts.append(script.text)
        else:
            inv.problems.append("runs a computed command line in a shell")
    elif operands and operands[0].text not in ("/dev/stdin", "-", "/dev/fd/0"):
        inv.problems.append("runs a script file")
    else:
        result.reads_stdin_script = True
        inv.problems.append("runs commands a shell reads from its input")
    result.invocations.append(inv)


def _interpreter(program: str, rest: list[Word], inv: Invocation) -> None:
    texts = [w.text for w in rest]
    if _PYTHON.fullmatch(program):
        if "-c" in texts or any(t.startswith("-c") and len(t) > 2 for t in texts):
            inv.problems.append("runs inline Python code")
        elif any(not t.startswith("-") for t in texts[:1]) and "-m" not in texts:
            inv.problems.append("runs a script file")
        elif not texts:
            inv.problems.append("runs code an interpreter reads from its input")
        return
    flags = _INLINE_CODE.get(program)
    if flags and any(
        t in flags or any(t.startswith(f) for f in flags if len(f) == 2) for t in texts
    ):
        inv.problems.append(f"runs inline {program} code")
    elif program in _INTERPRETERS and texts and not texts[0].startswith("-"):
        inv.problems.append("runs a script file")
