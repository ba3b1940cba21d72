"""A killed PlanGate takes its commands along: kill -9 the process running a command and the
command, its background jobs and its sandbox are gone within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from plangate.tools.reaper import die_with_parent
from tests.orphans import GONE, START, kill_all, named, running, sleeper, wait_for

ROOT = Path(__file__).resolve().parents[2]
LINUX = sys.platform.startswith("linux")


@pytest.mark.skipif(not LINUX, reason="reads Linux's /proc")
@pytest.mark.parametrize("mode", ["plain", "thread", "sandboxed"])
def test_killed_plangate_takes_its_command_and_jobs_along(
    mode: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if mode == "sandboxed":
        request.getfixturevalue("bwrap")  # skips visibly where there is no sandbox
    token = f"orphan-{uuid.uuid4().hex[:10]}"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    driver = subprocess.Popen(
        [sys.executable, "-m", "tests.tools.orphan_driver", mode, str(workspace)],
        cwd=ROOT,
        env={**os.environ, "ORPHAN_COMMAND": sleeper(token)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        started = wait_for(lambda: running(token) or driver.poll() is not None, START)
        started = started and driver.poll() is None
        assert started, driver.stderr.read().decode()[-2000:] if driver.poll() else "no start"
        jobs = named(f"{token}-job", first=True)
        assert len(jobs) == 2, jobs  # both background jobs run...
        assert len(named(token)) > len(jobs)  # ...under the shell (and bwrap) that started them
        driver.kill()
        assert driver.wait(timeout=GONE) == -signal.SIGKILL
        assert wait_for(lambda: not named(token), GONE), f"still running: {named(token)}"
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(timeout=GONE)
        kill_all(token)


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG is Linux's")
def test_death_signal_follows_the_thread_that_forked() -> None:
    # Why the runner forks on the event loop's thread, which awaits the command to its end:
    # the kernel signals the child when the *thread* that forked it ends, not the process.
    token = f"orphan-{uuid.uuid4().hex[:10]}"
    argv, preexec = die_with_parent(["bash", "-c", f"exec -a {token} sleep 300"])
    assert preexec is not None or argv[0].endswith("setpriv")
    children: list[subprocess.Popen[bytes]] = []

    def fork() -> None:
        child = subprocess.Popen(argv, preexec_fn=preexec)
        children.append(child)
        # setpriv sets the signal after the fork, then runs bash: the thread ends only once
        # the command is running (as the event loop's thread outlives a command's start).
        comm = Path(f"/proc/{child.pid}/comm")
        wait_for(lambda: comm.read_text().strip() == "sleep", GONE)

    worker = threading.Thread(target=fork)
    try:
        worker.start()
        worker.join(timeout=GONE)
        assert children, "the worker thread did not start the child"
        assert children[0].wait(timeout=GONE) == -signal.SIGKILL  # this process lives on
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=GONE)
        kill_all(token)
