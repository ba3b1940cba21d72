"""The event log's fsync off the event loop, and sessions taking turns on it."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from plangate.workflow.events import MessageAdded
from plangate.workflow.log import EventLog, LogWriteError
from plangate.workflow.pacing import take_turn


async def test_on_a_loop_the_fsync_runs_in_a_thread_and_durable_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    threads: list[str] = []

    def fsync(fd: int) -> None:
        threads.append(threading.current_thread().name)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    log = EventLog(tmp_path / "events.jsonl")
    for i in range(5):
        log.append(MessageAdded(role="user", content=f"m{i}"))
    # Written at once, in order (a killed process loses nothing), whatever the fsync does.
    assert [e.data["content"] for e in EventLog(log.path).read()] == [f"m{i}" for i in range(5)]
    await log.durable()
    assert threads, "durable() returned before anything was fsync'd"
    assert threading.main_thread().name not in threads
    assert log._synced == log._written == 5


def test_without_a_loop_the_append_fsyncs_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd))[1])
    log = EventLog(tmp_path / "events.jsonl")
    log.append(MessageAdded(role="user", content="x"))
    assert len(calls) == 1
    assert log._synced == 1


async def test_a_failed_fsync_fails_durable_once_then_the_log_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = EventLog(tmp_path / "events.jsonl")

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    log.append(MessageAdded(role="user", content="a"))
    for _ in range(200):  # the background fsync fails (bounded wait)
        if log._failure is not None:
            break
        await asyncio.sleep(0.01)
    assert log._failure is not None
    with pytest.raises(LogWriteError, match="Input/output error"):
        await log.durable()
    monkeypatch.undo()
    log.append(MessageAdded(role="user", content="b"))  # resumed: it tries again
    await log.durable()
    assert [e.data["content"] for e in EventLog(log.path).read()] == ["a", "b"]


async def test_ready_steps_take_one_turn_of_the_loop_each_in_order() -> None:
    loop = asyncio.get_running_loop()
    turns: list[tuple[str, int]] = []
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        for _ in range(50):
            ticks += 1
            await asyncio.sleep(0)

    async def step(name: str) -> None:
        await take_turn()
        turns.append((name, ticks))

    ticker = loop.create_task(tick())
    await asyncio.wait_for(asyncio.gather(*(step(n) for n in "abcd")), 5)
    await ticker
    assert [name for name, _ in turns] == list("abcd")
    started = [at for _, at in turns]
    assert len(set(started)) == 4, f"two steps started in one turn of the loop: {turns}"
