"""The exec-time guard: denied stays denied however the command was spelled.

The static check reads the command's text; `eval "git pu""sh"`, `$x`, an alias, a script or
`subprocess.run(["git", "push"])` in Python all hide the program from it. They all end in an
exec, though. So inside the sandbox every program that one of the agent's bash deny or ask rules
names (the first word of the pattern: git, npm, docker, rm, ...; taken from the rules, not a
fixed list) is shadowed: a guard is bound over the real file, wherever it is reached from
(`git`, `/usr/bin/git`, `/bin/git`, `/usr/lib/git-core/git` and its `git-push` links, any PATH),
and the real file is bound at a private path. The guard (`guard_exec.c`, compiled once per
process; or, without a C compiler, a Python stub running `guard_entry.py`) sends the argv it
was executed with to this module over a Unix socket; the same `Policy.check_bash` that decided
the command decides `shlex.join(argv)`, and the guard execs the real program or exits 126 with
"PlanGate: denied at run time: <reason>", which the model reads in the output.

What counts at run time:
- deny (a bash rule, or an edit/read rule the argv hits): refused;
- ask from one of the agent's own rules: nobody can be asked in the middle of a command, so it
  runs only if the user approved the command under that same rule (`git fetch` approved runs
  its `git fetch`); otherwise refused with a message telling the model to run it as its own
  command, where the user is asked;
- the built-in questions (a command no rule names, one that cannot be analysed): run. They
  tell the user up front what a command line does; the command line itself already passed
  them, and asking about every `git` a build runs internally would stop every build. Text
  that becomes code (`python3 -c`, a repository's configuration) runs programs through execs
  that are guarded in turn;
- an argv longer than the engine reads (MAX_ANALYSED): refused, since the engine would only
  ask about it, not find the rule it matches.

A decision costs the guard's start (about 1 ms compiled, 9 ms for `python3 -I -S`) and a round
trip to the warm policy (bench/guard.py); loading the engine in each exec would cost 400 ms.
Where there is no sandbox there is no guard: the bash tool asks instead (sandbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import py_compile
import shlex
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from plangate.permissions import Action, Decision, Policy, Rule
from plangate.permissions.shell import MAX_ANALYSED
from plangate.tools import guard_entry
from plangate.tools.native import compiled
from plangate.tools.sandbox import Sandbox

log = logging.getLogger(__name__)

# Folders searched besides PATH: the usual bin folders, and the private exec paths of
# multi-call programs (`git push` runs /usr/lib/git-core/git-push -> git).
_STANDARD_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_EXEC_DIRS = ("/usr/lib/{}-core", "/usr/libexec/{}-core", "/usr/local/libexec/{}-core")
# A request is an argv: Linux caps a command line at about 2 MiB by default (a quarter of
# the stack limit); beyond this the exec is refused rather than decided on a part of it.
_MAX_REQUEST = 8 << 20


def guarded_programs(policy: Policy) -> list[str]:
    """The program names the agent's bash deny and ask rules start with, in rule order.

    A pattern whose first word is a wildcard (`*`, `git*`) names no single program: nothing
    can be shadowed for it, and the static check stays its only layer."""
    names: list[str] = []
    for rule in policy.bash_rules:
        words = rule.pattern.split()
        if rule.action is Action.ALLOW or not words:
            continue
        first = words[0]
        if any(c in first for c in "*?[") or "/" in first or first in names:
            continue
        names.append(first)
    return names


@dataclass(frozen=True)
class Shadow:
    """One real file to cover with a guard stub: the program's name and the file's real path."""

    program: str
    path: str
    script: bool  # not a binary: its interpreter resolves files next to it (node's require)


def shadows(programs: Iterable[str], path_env: str | None = None) -> list[Shadow]:
    """Every real file each program is reached through: each PATH folder's `name` (and the
    usual bin folders, and `<name>-core` exec paths), symlinks resolved, without repeats; and
    the `<name>-*` files in those folders that are hard links of one of them (older git
    packages install `git-core/git-push` as a hard link of git, not a symlink)."""
    path = path_env or os.environ.get("PATH", "")
    return list(_shadows(tuple(programs), path))


@functools.lru_cache(maxsize=64)
def _shadows(programs: tuple[str, ...], path: str) -> tuple[Shadow, ...]:
    # Cached: it lists every PATH folder, and programs are not installed while a session runs
    # often enough to pay that on every command.
    folders = [d for d in path.split(os.pathsep) if d]
    found: list[Shadow] = []
    seen: set[str] = set()

    def add(program: str, real: str) -> None:
        if real not in seen:
            seen.add(real)
            found.append(Shadow(program, real, script=not _is_binary(real)))

    for program in programs:
        dirs = list(
            dict.fromkeys([*folders, *_STANDARD_DIRS, *(d.format(program) for d in _EXEC_DIRS)])
        )
        inodes: set[tuple[int, int]] = set()
        for folder in dirs:
            candidate = os.path.join(folder, program)
            if not os.path.isfile(candidate) or not os.access(candidate, os.X_OK):
                continue
            real = os.path.realpath(candidate)
            add(program, real)
            info = os.stat(real)
            inodes.add((info.st_dev, info.st_ino))
        for folder in dirs:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if not entry.name.startswith(program + "-") or entry.is_symlink():
                    continue
                with contextlib.suppress(OSError):
                    info = entry.stat()
                    if (info.st_dev, info.st_ino) in inodes:
                        add(program, os.path.realpath(entry.path))
    return tuple(found)


def _is_binary(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def runtime_verdict(
    policy: Policy, words: list[str], cwd: str | None, approved: frozenset[Rule]
) -> str | None:
    """None when `words` (an argv as executed) may run, else the reason it may not."""
    command = shlex.join(words)
    if len(command) > MAX_ANALYSED:
        # The engine does not read a command this long: it would only ask, and a built-in
        # question runs at exec time. `git -c x=<120 KB> push` must not run on that.
        return (
            f"`{command[:60]}…` is over {MAX_ANALYSED:,} characters, more than PlanGate "
            "checks, and nobody can be asked while a command runs"
        )
    decision = policy.check_bash(command, cwd or None)
    if decision.action is Action.DENY:
        return decision.reason
    rule = decision.rule
    own_ask = decision.action is Action.ASK and rule is not None and rule.builtin is None
    if own_ask and rule not in approved:
        return (
            f"{decision.reason}. Nobody can be asked while a command runs: run `{command}` "
            "as its own bash command, so the user can be asked"
        )
    return None


def approved_rules(decision: Decision) -> frozenset[Rule]:
    """The agent's ask rules the user approved by approving the command `decision` is about."""
    rule = decision.rule
    if decision.action is Action.ASK and rule is not None and rule.builtin is None:
        return frozenset({rule})
    return frozenset()


def _stub(python: str, folder: str, program: str, real: str, socket_path: str) -> str:
    # -I: no PYTHON* variables, no user site, no script folder on sys.path; -S: no site
    # import (half of Python's start-up). The entry module is imported from the guard folder,
    # which the sandbox always shows (PlanGate's own install may be hidden, under /tmp).
    return (
        f"#!{python} -IS\n"
        "import sys\n"
        f"sys.path.insert(0, {folder!r})\n"
        "from guard_entry import main\n"
        f"main({program!r}, {real!r}, {socket_path!r})\n"
    )


@functools.cache
def _entry_bytecode() -> bytes:
    """guard_entry.py compiled once: copied as a sourceless .pyc into each guard folder, so
    no exec compiles it (there is nowhere in the sandbox to cache the compiled code)."""
    with tempfile.TemporaryDirectory() as scratch:
        target = os.path.join(scratch, "guard_entry.pyc")
        py_compile.compile(guard_entry.__file__, cfile=target, doraise=True)
        with open(target, "rb") as f:
            return f.read()


def _python() -> str:
    # The base interpreter, not a venv's: with -S nothing from a venv is used, and its
    # pyvenv.cfg lookup is start-up time saved.
    base = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(base if os.path.exists(base) else sys.executable)


# Inside the sandbox (its /tmp is a private tmpfs, so these never collide): the guard folder
# (stubs, the compiled guard's map, the socket) and the private root the real files are under.
INSIDE = "/tmp/.plangate-guard"
PRIVATE = "/tmp/.plangate-real"


def compiled_guard() -> str | None:
    """guard_exec.c built once per process, or None when there is no working C compiler: then
    the Python stubs guard, about 10 ms slower an exec."""
    return compiled("guard_exec.c", f"GUARD_FOLDER={json.dumps(INSIDE)}")


@dataclass(frozen=True)
class GuardLayout:
    """The bwrap arguments that shadow each program, and the socket's path on the host."""

    args: tuple[str, ...]
    socket: str
    compiled: bool


def layout(folder: str, found: list[Shadow], compiled: str | None) -> GuardLayout:
    """Write the guard's files into `folder` and return the bwrap arguments that put them in
    place: `folder` at INSIDE, every real file under PRIVATE, the guard over each real file.

    PRIVATE is in the sandbox's /tmp (a tmpfs, so bwrap can make the mount points): a binary
    alone, a script with the folder above its own, so what it loads relative to itself
    (`../lib/cli.js`) is found next to it. With `compiled` (a built guard_exec.c) that one
    binary covers every file and reads `map`; otherwise a Python stub per file. The stubs'
    Python runs from PRIVATE too (its whole prefix, where it finds its standard library): a
    rule may name that very interpreter (`"python3 -m http.server": deny`), and a stub whose
    interpreter is a stub is refused by the kernel."""
    args: list[str] = ["--ro-bind", folder, INSIDE]
    guards: list[str] = []
    entries: list[str] = []
    python = _python()
    if compiled is None:
        prefix = os.path.realpath(sys.base_prefix)
        if prefix != "/" and python.startswith(prefix + "/"):
            args += ["--ro-bind", prefix, PRIVATE + prefix]
            python = PRIVATE + python
        with open(os.path.join(folder, "guard_entry.pyc"), "wb") as f:
            f.write(_entry_bytecode())
    for index, shadow in enumerate(found):
        real = PRIVATE + shadow.path
        if shadow.script:
            parent = Path(shadow.path).parent
            tree = str(parent.parent if len(parent.parts) > 2 else parent)
            args += ["--ro-bind", tree, PRIVATE + tree]
        else:
            args += ["--ro-bind", shadow.path, real]
        if compiled is not None:
            entries.append(f"{shadow.path}\t{shadow.program}\t{real}\n")
            guards += ["--ro-bind", compiled, shadow.path]
            continue
        stub = os.path.join(folder, f"guard-{index}-{shadow.program}")
        with open(stub, "w", encoding="utf-8") as f:
            f.write(_stub(python, INSIDE, shadow.program, real, f"{INSIDE}/sock"))
        os.chmod(stub, 0o755)
        guards += ["--ro-bind", stub, shadow.path]
    if compiled is not None:
        with open(os.path.join(folder, "map"), "w", encoding="utf-8") as f:
            f.writelines(entries)
    # The guards go on after every real file is bound: bwrap binds from the host's view, but
    # keeping them last makes the order obvious.
    return GuardLayout(tuple(args + guards), os.path.join(folder, "sock"), compiled is not None)


@dataclass
class GuardRun:
    """One command's guard: the sandbox prefix to run it with, and what the guard refused."""

    prefix: tuple[str, ...]
    refused: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """A line per refusal for the tool's result: the model is told even when the program's
        stderr went nowhere (`2>/dev/null`, Python's `capture_output=True`)."""
        return [f"[{guard_entry.MESSAGE_PREFIX}{reason}]" for reason in dict.fromkeys(self.refused)]


async def _read_all(reader: asyncio.StreamReader) -> bytes | None:
    """The whole request, up to the guard's end of writing; None past _MAX_REQUEST. Never a
    part: the policy deciding `git -c x=<64 KiB> push` on its first 64 KiB would allow it."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await reader.read(65536):
        size += len(chunk)
        if size > _MAX_REQUEST:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@contextlib.asynccontextmanager
async def exec_guard(
    policy: Policy, sandbox: Sandbox, decision: Decision, *, compiled: bool = True
) -> AsyncIterator[GuardRun]:
    """The sandbox prefix with the guard in place, its server answering while the command runs.

    `decision` is the one the command ran under (its approved ask rule may run inside it).
    Without a sandbox, or with no program to guard, the prefix is returned unchanged.
    `compiled=False` uses the Python stubs even where the compiled guard builds."""
    programs = guarded_programs(policy)
    if not sandbox.sandboxed or not programs:
        yield GuardRun(sandbox.prefix)
        return
    if sandbox.prefix[-1:] != ("--",):
        # Never silently: a layer the docs promise would be missing.
        log.warning("exec-time guard not installed: unexpected sandbox prefix %s", sandbox.prefix)
        yield GuardRun(sandbox.prefix)
        return
    found = await asyncio.to_thread(shadows, programs)
    if not found:
        yield GuardRun(sandbox.prefix)
        return
    approved = approved_rules(decision)
    refused: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_all(reader)
            if request is None:
                writer.write(b"deny\nthe command line is too long for the exec-time guard")
                await writer.drain()
                return
            cwd, *words = request.decode("utf-8", "surrogateescape").split("\0")
            # The engine may walk folders (`grep -r`): off the event loop.
            reason = await asyncio.to_thread(runtime_verdict, policy, words, cwd, approved)
            if reason is not None:
                refused.append(reason)
                log.info("exec-time guard refused %s: %s", shlex.join(words), reason)
            reply = guard_entry.RUN if reason is None else f"deny\n{reason}"
            writer.write(reply.encode("utf-8", "replace"))
            await writer.drain()
        except Exception:  # a broken request is refused by the stub (no "run" answer)
            log.exception("exec-time guard request failed")
        finally:
            writer.close()

    folder = tempfile.mkdtemp(prefix="plangate-guard-")
    try:
        binary = await asyncio.to_thread(compiled_guard) if compiled else None
        guard = await asyncio.to_thread(layout, folder, found, binary)
        server = await asyncio.start_unix_server(answer, path=guard.socket)
        try:
            yield GuardRun((*sandbox.prefix[:-1], *guard.args, "--"), refused)
        finally:
            server.close()
            await server.wait_closed()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
