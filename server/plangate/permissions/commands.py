"""From a simple command to the programs it really runs.

Normalises the command word (quotes are gone already; `/usr/bin/git` -> `git`), peels wrappers
that run their arguments (`env`, `sudo`, `timeout`, `xargs`, `bash -c`, ...), and marks what
cannot be analysed statically (eval, source, script files, inline interpreter code). What is
particular to one program (git's global options, npm's abbreviations, `find -exec`, ...) is
in its module under `programs/`: this module asks the registry to normalise the command line
(`git -C . commit` -> `git commit`) and for the commands the program runs from its arguments.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from plangate.permissions.invocation import Invocation, Pending, Unwrapped, option_word
from plangate.permissions.options import find_option
from plangate.permissions.programs import lookup, lookup_dashed
from plangate.permissions.shell import SimpleCommand, code_of, is_risky_variable
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
    "toybox": frozenset(),
    "strace": _names(
        "-a -b -e -E -I -o -O -p -P -s -S -u -U -X --output --env --user --attach --trace"
        " --signal --status --string-limit --trace-path --summary-columns --const-print-style"
    ),
    "ltrace": _names(
        "-a -A -D -e -F -l -n -o -p -s -u -w -x --output --library --indent --align --config"
    ),
    "unshare": _names(
        "-S -G -R -w --setuid --setgid --root --wd --map-user --map-group --map-users"
        " --map-groups --propagation"
    ),
    "fakeroot": _names("-l -s -i -f -b --lib --faked"),
    "chrt": _names("-T -P -D --sched-runtime --sched-period --sched-deadline"),
    "prlimit": _names("-p --pid -o --output"),
    "systemd-run": _names(
        "-p --property -u --unit -M --machine -H --host -E --setenv --description --slice"
        " --uid --gid --nice --working-directory --on-active --on-boot --on-startup"
        " --on-unit-active --on-unit-inactive --on-calendar --path-property --socket-property"
        " --timer-property"
    ),
    "cross-env": frozenset(),
    "dotenv": _names("-e -v -p -c"),
    "parallel": _names(
        "-j --jobs -S --sshlogin -a --arg-file --joblog --results --tmpdir -I -d --delimiter"
        " -E -N -L -n -P --max-procs --halt --env --workdir --wd --basefile --bf --retries"
        " --delay --timeout --colsep -C --sshloginfile --slf --memfree --load --shebang-wrap"
    ),
}
_ELEVATE = frozenset({"sudo", "doas"})
# Wrappers that hand their command to something outside this session: a service manager.
_DETACH = {"systemd-run": "runs the command as a service, outside this session (systemd-run)"}
# `PROGRAM SUB [options] command...`: subcommands that run the rest as a command, with the
# options that take a separate value.
_RUNNER_SUBCOMMANDS: dict[tuple[str, str], frozenset[str]] = {
    ("uv", "run"): _names(
        "--with --with-editable --with-requirements -p --python --project --directory"
        " --package --extra --group --only-group --no-group --env-file --index --default-index"
        " -i --index-url --extra-index-url -f --find-links --config-file --cache-dir"
        " --python-platform -P --upgrade-package --reinstall-package --prerelease"
        " --resolution --exclude-newer"
    ),
    ("uvx", ""): _names("--from --with --with-editable -p --python --index --env-file"),
    ("poetry", "run"): _names("-C --directory -P --project"),
    ("pipenv", "run"): frozenset(),
    ("hatch", "run"): frozenset(),
    ("pdm", "run"): _names("-p --project"),
    ("rye", "run"): frozenset(),
    ("bundle", "exec"): frozenset(),
    ("corepack", ""): frozenset(),
}
# corepack's own commands; any other first word is a package manager it runs.
_COREPACK_COMMANDS = frozenset("enable disable install pack prepare up use hydrate cache".split())
# A package runner's `name@version` is the program `name` (`npx npm@10 publish`, `pnpm dlx
# npm@10 publish`, `corepack pnpm@8 publish`).
_VERSIONED = re.compile(r"([A-Za-z0-9][\w.-]*)@[\w.^~<>=*-]+")
# Options of wrappers that write a file (a trace or a log): checked as writes.
_WRAPPER_OUTPUTS = {
    "strace": ("-o", "--output"),
    "ltrace": ("-o", "--output"),
    "time": ("-o", "--output"),
}


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

    inline = _inline_script(program, rest)
    if inline is not None:
        result.script_from([inline], inv)
        return
    runner = _runner_payload(program, rest)
    if runner is not None:
        if runner:
            pending.append((runner, escalates))
        else:
            result.invocations.append(inv)
        return
    if program == "parallel":
        _parallel(rest, result, inv)
        return
    if program == "cross-env-shell":
        # Settings, then the rest joined into a line for a shell.
        result.script_from(_after_settings(rest, 0), inv)
        return
    if program in _VALUE_OPTIONS:
        payload = _wrapper_payload(program, rest)
        if program == "env":
            payload = _env_payload(rest, result, inv)
            directory = option_word(rest[: len(rest) - len(payload)], ("-C", "--chdir"))
            if directory is not None and payload:
                result.directories[id(payload)] = _moved(command.cwd, directory)
        settings = rest[: len(rest) - len(payload)]
        _wrapper_writes(program, settings, result, inv)
        risky = [w.text.split("=", 1)[0] for w in settings if "=" in w.text]
        if program in ("dotenv", "cross-env") and any(is_risky_variable(n) for n in risky):
            inv.problems.append("sets a variable that changes what the command runs")
        if program in _DETACH:
            escalates = _DETACH[program]
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
            if program in _ELEVATE or inv.problems:
                result.invocations.append(inv)  # asked for itself, whatever the payload is
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
        if rest and (rest[0].dynamic or rest[0].text in _STDIN_FILES):
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
        if not text.startswith("-") or text == "-" or program in ("busybox", "toybox", "coproc"):
            break
        hit = find_option(text, value_options)
        i += 2 if hit is not None and hit.value is None else 1
    payload = rest[i:]
    if program in ("dotenv", "cross-env"):
        return _after_settings(rest, i)
    if program == "chrt":
        # `chrt -p PRIO PID` changes a running process; otherwise the priority comes first.
        return [] if any(find_option(w.text, ("-p", "--pid")) for w in rest[:i]) else payload[1:]
    if program == "timeout" and payload:
        payload = payload[1:]  # the duration
    if program == "taskset" and payload and not any(w.text.startswith("-c") for w in rest):
        payload = payload[1:]  # the CPU mask
    if program == "flock" and payload:
        payload = payload[1:]  # the lock file
    return payload


def _after_settings(rest: list[Word], start: int) -> list[Word]:
    """dotenv and cross-env: from `start` (past their options), `VAR=value` settings, an
    optional `--`, then the command (a later `--` is the command's own)."""
    i = start
    while i < len(rest) and "=" in rest[i].text and not rest[i].text.startswith("-"):
        i += 1
    if i < len(rest) and rest[i].text == "--":
        i += 1
    return rest[i:]


def _runner_payload(program: str, rest: list[Word]) -> list[Word] | None:
    """`uv run cmd`, `poetry run cmd`, `corepack npm ...`: the command they run ([] when the
    runner is given none), or None when this is not such a runner."""
    sub = rest[0].text if rest else ""
    value_options = _RUNNER_SUBCOMMANDS.get((program, sub))
    tail = rest[1:]
    if value_options is None:
        value_options = _RUNNER_SUBCOMMANDS.get((program, ""))
        tail = rest
        if value_options is None or (program == "corepack" and sub in _COREPACK_COMMANDS):
            return None
    i = 0
    while i < len(tail):
        text = tail[i].text
        if text == "--":
            i += 1
            break
        if not text.startswith("-") or text == "-":
            break
        hit = find_option(text, value_options)
        i += 2 if hit is not None and hit.value is None else 1
    return tail[i:]


def _parallel(rest: list[Word], result: Unwrapped, inv: Invocation) -> None:
    """GNU parallel runs its command through a shell once per argument: `{}` is replaced by
    the argument, or the argument is appended. Arguments given after `:::` are checked one
    by one; arguments read from input or a file make the command line computed."""
    texts = [w.text for w in rest]
    marker = next((j for j, t in enumerate(texts) if t.startswith(":::")), len(rest))
    command = _wrapper_payload("parallel", rest[:marker])
    arguments = rest[marker + 1 :]
    combined = (
        texts[marker : marker + 1] != [":::"]  # `::::` reads arguments from files
        or any(w.text.startswith(":::") for w in arguments)  # groups combine into lines
        or len(arguments) > MAX_UNWRAP
        or any(_PARALLEL_PLACEHOLDER.search(w.text) for w in command)  # {1}, {.}, {/}...
    )
    if not command or marker == len(rest) or combined:
        inv.problems.append("runs commands built from its input (parallel)")
        result.invocations.append(inv)
        if command:
            # Still check the command itself (`parallel git push` with input is a push) and
            # with each visible argument (`parallel git ::: push ::: origin` pushes).
            base = " ".join(w.text for w in command if w.literal)
            result.scripts.append(base)
            result.scripts += [
                f"{base} {w.text}"
                for w in arguments[:MAX_UNWRAP]
                if w.literal and w.text[:3] != ":::"
            ]
        return
    placeholder = any("{}" in w.text for w in command)
    lines = [
        [Word(w.text.replace("{}", a.text), w.dynamic or a.dynamic) for w in command]
        if placeholder
        else [*command, a]
        for a in arguments[:MAX_UNWRAP]
    ]
    if all(w.literal for line in lines for w in line) and command == rest[: len(command)]:
        # No options of its own (logs, results, remote hosts): parallel is its commands.
        result.scripts.extend(" ".join(w.text for w in line) for line in lines)
        return
    for line in lines:
        result.script_from(line, inv)


def _wrapper_writes(program: str, options: list[Word], result: Unwrapped, inv: Invocation) -> None:
    """`strace -o FILE cmd`, `time -o FILE cmd`: the wrapper itself writes a file."""
    names = _WRAPPER_OUTPUTS.get(program)
    if names and option_word(options, names) is not None:
        result.invocations.append(replace(inv, argv=[Word(program), *options], problems=[]))


def _moved(cwd: str | None, directory: Word) -> str | None:
    """The directory `env -C DIR` runs its command in; None when not known statically."""
    if cwd is None or not directory.literal:
        return None
    return posixpath.normpath(posixpath.join(cwd, posixpath.expanduser(directory.text)))


_PARALLEL_PLACEHOLDER = re.compile(r"\{[^{}\s]+\}")
_DIRECTIVE = re.compile(r"%[-+ #0-9.]*[sbdiqcu]")
_STDIN_FILES = frozenset({"/dev/stdin", "-", "/proc/self/fd/0", "/dev/fd/0"})
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
        if text == "-":
            i += 1  # `env -` is `env -i`: an empty environment
            continue
        if text.startswith("-"):
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
            name, value = text.split("=", 1)
            script = code_of(name, value) if word.literal else None
            if script is not None:
                result.scripts.append(script)  # PS4='$(cmd)' bash -x: the value runs
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
    elif operands and operands[0].dynamic:
        # `bash <(echo cmd)`: the script is what the substitution prints.
        result.reads_stdin_script = True
        inv.problems.append("runs a script computed at run time")
    elif operands and operands[0].text not in _STDIN_FILES:
        inv.problems.append("runs a script file")
    else:
        result.reads_stdin_script = True
        inv.problems.append("runs commands a shell reads from its input")
    result.invocations.append(inv)


# python's flags that take no value, then `c`: the rest of the word or the next is code.
_PYTHON_CODE = re.compile(r"-[bBdEhiIOPqRsSuvx]*c")


def _short_cluster(text: str) -> bool:
    return text.startswith("-") and not text.startswith("--") and len(text) > 1


def _interpreter(program: str, rest: list[Word], inv: Invocation) -> None:
    texts = [w.text for w in rest]
    if _PYTHON.fullmatch(program):
        if any(_PYTHON_CODE.match(t) for t in texts):  # `-c`, `-ccode`, `-Ic code`
            inv.problems.append("runs inline Python code")
        elif any(not t.startswith("-") for t in texts[:1]) and "-m" not in texts:
            inv.problems.append("runs a script file")
        elif not texts:
            inv.problems.append("runs code an interpreter reads from its input")
        return
    flags = _INLINE_CODE.get(program)
    letters = "".join(f[1] for f in flags or () if len(f) == 2)
    if flags and any(
        t in flags
        # A short cluster with a code letter: `perl -pe`, `perl -lne`, `ruby -ne`, `-eCODE`.
        or (letters and _short_cluster(t) and any(letter in t for letter in letters))
        for t in texts
    ):
        inv.problems.append(f"runs inline {program} code")
    elif program in _INTERPRETERS and texts and not texts[0].startswith("-"):
        inv.problems.append("runs a script file")
