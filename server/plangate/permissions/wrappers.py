"""Wrappers and runners that run their arguments as a command: `env`, `sudo`, `timeout`,
`xargs`, `uv run`, `npx`, `parallel`, ... Their options, and where their payload starts.
commands.py peels them; the files some of them write (`strace -o`) are in programs/wrappers.py.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from plangate.permissions.invocation import Invocation, Unwrapped, option_word
from plangate.permissions.options import find_option
from plangate.permissions.variables import code_of, is_risky_variable
from plangate.permissions.words import Word

MAX_UNWRAP = 16


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Options that take a separate value, per wrapper; the payload starts at the first other word.
WRAPPER_OPTIONS: dict[str, frozenset[str]] = {
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
ELEVATE = frozenset({"sudo", "doas"})
# Wrappers that hand their command to something outside this session: a service manager.
DETACH = {"systemd-run": "runs the command as a service, outside this session (systemd-run)"}
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
# Options of wrappers that write a file (a trace or a log): checked as writes.
_WRAPPER_OUTPUTS = {
    "strace": ("-o", "--output"),
    "ltrace": ("-o", "--output"),
    "time": ("-o", "--output"),
}


def options_end(
    words: list[Word],
    value_options: frozenset[str] | tuple[str, ...],
    *,
    settings: bool = False,
    options: bool = True,
) -> int:
    """Where a wrapper's leading options (with their separate values) end: past a `--`, or
    at the first other word. With `settings`, `VAR=value` words are skipped too (sudo);
    without `options`, only a `--` is skipped (busybox, toybox, coproc)."""
    i = 0
    while i < len(words):
        text = words[i].text
        if text == "--":
            return i + 1
        if settings and "=" in text and not text.startswith("-"):
            i += 1  # sudo VAR=value cmd
            continue
        if not text.startswith("-") or text == "-" or not options:
            break
        hit = find_option(text, value_options)
        i += 2 if hit is not None and hit.value is None else 1
    return i


def wrapper_payload(program: str, rest: list[Word]) -> list[Word]:
    """Skip a wrapper's options (and its positional setting, for timeout) to its payload."""
    i = options_end(
        rest,
        WRAPPER_OPTIONS[program],
        settings=program in ELEVATE,
        options=program not in ("busybox", "toybox", "coproc"),
    )
    payload = rest[i:]
    if program in ("dotenv", "cross-env"):
        return after_settings(rest, i)
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


def after_settings(rest: list[Word], start: int) -> list[Word]:
    """dotenv and cross-env: from `start` (past their options), `VAR=value` settings, an
    optional `--`, then the command (a later `--` is the command's own)."""
    i = start
    while i < len(rest) and "=" in rest[i].text and not rest[i].text.startswith("-"):
        i += 1
    if i < len(rest) and rest[i].text == "--":
        i += 1
    return rest[i:]


def runner_payload(program: str, rest: list[Word]) -> list[Word] | None:
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
    i = options_end(tail, value_options)
    return tail[i:]


def parallel(rest: list[Word], result: Unwrapped, inv: Invocation) -> None:
    """GNU parallel runs its command through a shell once per argument: `{}` is replaced by
    the argument, or the argument is appended. Arguments given after `:::` are checked one
    by one; arguments read from input or a file make the command line computed."""
    texts = [w.text for w in rest]
    marker = next((j for j, t in enumerate(texts) if t.startswith(":::")), len(rest))
    command = wrapper_payload("parallel", rest[:marker])
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


def wrapper_writes(program: str, options: list[Word], result: Unwrapped, inv: Invocation) -> None:
    """`strace -o FILE cmd`, `time -o FILE cmd`: the wrapper itself writes a file."""
    names = _WRAPPER_OUTPUTS.get(program)
    if names and option_word(options, names) is not None:
        result.invocations.append(replace(inv, argv=[Word(program), *options], problems=[]))


def moved(cwd: str | None, directory: Word) -> str | None:
    """The directory `env -C DIR` runs its command in; None when not known statically."""
    if cwd is None or not directory.literal:
        return None
    return posixpath.normpath(posixpath.join(cwd, posixpath.expanduser(directory.text)))


_PARALLEL_PLACEHOLDER = re.compile(r"\{[^{}\s]+\}")
_ENV_VALUE_OPTIONS = ("-u", "--unset", "-C", "--chdir", "-S", "--split-string")


# Wrappers whose option hands them a command line to run through a shell.
_INLINE_OPTIONS = {
    "flock": ("-c", "--command"),
    "script": ("-c", "--command"),
    "npx": ("-c", "--call"),
    "su": ("-c", "--command"),
}


def inline_script(program: str, rest: list[Word]) -> Word | None:
    """The command line given to `flock -c`, `script -c`, `npx -c`, `su -c`."""
    names = _INLINE_OPTIONS.get(program)
    return None if names is None else option_word(rest, names)


def env_payload(rest: list[Word], result: Unwrapped, inv: Invocation) -> list[Word]:
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
