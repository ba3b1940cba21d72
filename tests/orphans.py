"""Finding a command's processes by a token in their command line, for the tests that kill
PlanGate and check that nothing it started is left running."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

START = 30.0  # seconds for a command to start
GONE = 10.0  # seconds for its processes to die once PlanGate is killed


def named(token: str, *, first: bool = False) -> list[int]:
    """Live processes whose command line holds `token` (`first`: whose argv[0] is it). Zombies
    count as dead: in a container nobody may reap them."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # gone while we looked
        held = cmdline.split(b"\0")[0] == token.encode() if first else token.encode() in cmdline
        if held and state != "Z":
            found.append(int(entry.name))
    return found


def wait_for(condition: Callable[[], object], seconds: float) -> bool:
    """Poll `condition()` until it holds or `seconds` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def kill_all(token: str) -> None:
    """Leave nothing behind, whatever a test found."""
    for pid in named(token):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def sleeper(token: str) -> str:
    """A command with two background jobs (argv[0] `<token>-job`) that outlive their shell
    unless something kills them."""
    job = f"(exec -a {token}-job sleep 300)"
    return f"{job} & {job} & wait"


def running(token: str) -> bool:
    """True once both jobs of `sleeper(token)` run. (A file the command writes is no sign: it
    lands in the command's copy-on-write layer, seen in the workspace only when it ends.)"""
    return len(named(f"{token}-job", first=True)) == 2
