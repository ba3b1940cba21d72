"""Commands die with PlanGate, even when PlanGate is killed with SIGKILL.

Three guards, because each reaches what the others cannot:

- The command's first process gets `PR_SET_PDEATHSIG` (Linux; through util-linux's `setpriv`
  where there is one, else prctl in the child): the kernel sends it SIGKILL
  when the *thread* that forked it ends. asyncio forks on the thread running the event loop,
  and `run_command` awaits the command to its end on that loop, so the thread outlives the
  command for as long as PlanGate lives: the signal comes only when the whole process dies.
- A watchdog process (this file, run as a script) reads the process groups PlanGate registers
  from a pipe only PlanGate writes to. When PlanGate dies, for whatever reason and on whatever
  thread, the pipe reports end-of-file and the watchdog kills every group still registered:
  the background jobs a command left (`sleep 300 &`), which PDEATHSIG does not reach, included.
- Sandboxed commands run under bubblewrap with `--die-with-parent` in their own PID namespace
  (`sandbox.py`): when the namespace's first process dies the kernel kills the rest.

Known limit: an unsandboxed process that leaves its process group (`setsid`, `setpgid`) is out
of the watchdog's reach. Where prctl is missing (not Linux) only the watchdog guards.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[[int, int, int, int, int], int] | None:
    # Looked up once in the parent: the child between fork and exec should do nothing but call.
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _load_prctl()
_SETPRIV = shutil.which("setpriv") if _PRCTL is not None else None


def death_signal_setter() -> str | None:
    """What gives commands their parent-death signal, for `plangate doctor`: setpriv's path,
    "prctl" (called in the child, which costs a copy of the server per start), or None (not
    Linux: only the watchdog)."""
    if _SETPRIV is not None:
        return _SETPRIV
    return "prctl" if _PRCTL is not None else None


def die_with_parent(argv: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    """`argv` made to get SIGKILL when PlanGate dies, and the `preexec_fn` that takes, if any.

    util-linux's `setpriv --pdeathsig` sets the signal and then runs the command, so no
    `preexec_fn` is needed: without one Python starts the child with vfork, where a
    `preexec_fn` makes it copy the whole server first (tens of milliseconds on the event loop,
    with twenty sessions running commands). Without setpriv, prctl runs in the child."""
    if _SETPRIV is not None:
        return [_SETPRIV, "--pdeathsig", "KILL", "--", *argv], None
    prctl = _PRCTL
    if prctl is None:
        return argv, None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # PlanGate died between fork and prctl: nobody will signal
            os.kill(os.getpid(), signal.SIGKILL)

    return argv, preexec


class Reaper:
    """PlanGate's side of the watchdog: register a command's process group while it runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._groups: set[int] = set()

    def watch(self, pgid: int) -> None:
        """Kill process group `pgid` if PlanGate dies before `release(pgid)`."""
        with self._lock:
            self._groups.add(pgid)
            self._send(f"+{pgid}\n")

    def release(self, pgid: int) -> None:
        """The group is gone (PlanGate killed it): stop guarding it."""
        with self._lock:
            self._groups.discard(pgid)
            self._send(f"-{pgid}\n")

    def _send(self, line: str) -> None:
        for _ in range(2):  # a watchdog that died is started again, with every live group
            watchdog = self._watchdog
            if watchdog is None or watchdog.poll() is not None:
                watchdog = self._start()
                if watchdog is None:
                    return
                line = "".join(f"+{pgid}\n" for pgid in sorted(self._groups))
            assert watchdog.stdin is not None
            try:
                watchdog.stdin.write(line.encode())
                watchdog.stdin.flush()
                return
            except OSError:
                self._watchdog = None

    def _start(self) -> subprocess.Popen[bytes] | None:
        if not sys.executable:
            return None
        try:
            # Its own session: a Ctrl-C or a signal to PlanGate's group does not reach it.
            # No PDEATHSIG: end-of-file, not a thread's end, is its signal.
            self._watchdog = subprocess.Popen(
                [sys.executable, "-I", "-S", __file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            log.warning("no watchdog for commands (%s): they may outlive a killed PlanGate", exc)
            self._watchdog = None
        return self._watchdog


REAPER = Reaper()


def main() -> None:
    """The watchdog: `+pgid` / `-pgid` lines on stdin; at end-of-file kill the groups left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    groups: set[int] = set()
    for raw in sys.stdin.buffer:
        line = raw.strip()
        if line[:1] == b"+":
            groups.add(int(line[1:]))
        elif line[:1] == b"-":
            groups.discard(int(line[1:]))
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)


if __name__ == "__main__":
    main()
