"""The event log loses nothing: a full disk rolls a write back and pauses the session loudly;
a bad line in the middle is set aside, not everything after it (issue 14, items 4 and 5)."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from plangate.agents import Agent
from plangate.model.scripted import ScriptedServer
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.events import MessageAdded, StatusChanged
from plangate.workflow.log import EventLog, LogWriteError
from plangate.workflow.session import Session
from plangate.workflow.state import Status, replay

from .scenario import Model, make_workspace, provider

ROOT = Path(__file__).resolve().parents[2]


def _log_with(tmp_path: Path, count: int) -> EventLog:
    log = EventLog(tmp_path / "events.jsonl")
    for index in range(count):
        log.append(MessageAdded(role="user", content=f"message {index}"))
    return log


def test_a_short_write_is_rolled_back_and_later_events_stay_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _log_with(tmp_path, 5)
    real_write = os.write
    calls = {"n": 0}

    def full_disk(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, data[: len(data) // 2])  # half the line, then...
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(LogWriteError, match="No space left on device"):
        log.append(MessageAdded(role="user", content="lost"))
    monkeypatch.setattr(os, "write", real_write)
    log.append(MessageAdded(role="user", content="after the disk was freed"))
    events = EventLog(log.path).read()
    assert [e.data["content"] for e in events] == [
        *(f"message {i}" for i in range(5)),
        "after the disk was freed",
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]


def test_a_garbage_line_in_the_middle_is_set_aside(tmp_path: Path) -> None:
    log = _log_with(tmp_path, 6)
    lines = log.path.read_bytes().splitlines(keepends=True)
    unknown = json.loads(lines[4])
    unknown["data"] = {"status": "hibernating"}  # a status this version does not know
    unknown["type"] = "status"
    lines[2] = b"\x00\x01 not json at all\n"
    lines[4] = (json.dumps(unknown) + "\n").encode()
    log.path.write_bytes(b"".join(lines) + b'{"seq": 7, "at": 1, "ty')  # and a torn tail
    events = EventLog(log.path).read()
    assert [e.data["content"] for e in events] == [
        "message 0",
        "message 1",
        "message 3",
        "message 5",
    ]
    rejected = [json.loads(line) for line in log.rejected.read_text().splitlines()]
    assert [r["line"] for r in rejected] == [3, 5]
    assert "hibernating" in rejected[1]["text"]
    assert replay(events).messages[-1]["content"][-1]["text"] == "message 5"
    # Read again: nothing more is set aside, nothing else is lost.
    assert len(EventLog(log.path).read()) == 4
    assert len(log.rejected.read_text().splitlines()) == 2


def test_appending_after_a_set_aside_line_continues_the_numbering(tmp_path: Path) -> None:
    log = _log_with(tmp_path, 3)
    with log.path.open("ab") as handle:
        handle.write(b"garbage\n")
    reopened = EventLog(log.path)
    reopened.read()
    reopened.append(StatusChanged(status=Status.PAUSED, reason="x"))
    assert [e.seq for e in EventLog(log.path).read()] == [1, 2, 3, 4]


def test_a_session_on_a_full_disk_pauses_loudly_and_resumes_later(
    seed_agent: Agent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = make_workspace(tmp_path / "ws")
    seen: list[Any] = []
    real_write = os.write
    budget = {"events": 12}

    def filling(fd: int, data: bytes) -> int:
        if data.startswith(b'{"seq"'):
            budget["events"] -= 1
            if budget["events"] < 0:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", filling)
    with ScriptedServer(Model()) as server:
        session = Session.start(
            seed_agent,
            workspace,
            "Fix add() in app.py",
            provider(server.base_url),
            ScriptedApprovals(),
            on_event=seen.append,
        )
        state = asyncio.run(session.run())
        assert state.status is Status.PAUSED and "No space left on device" in state.reason
        assert seen[-1].type == "status" and seen[-1].status is Status.PAUSED
        written = EventLog(session.log.path).read()
        assert len(written) == 12  # every event before the disk filled, none torn
        monkeypatch.setattr(os, "write", real_write)  # room again
        reopened = Session.open(
            seed_agent, workspace, session.state.id, provider(server.base_url), ScriptedApprovals()
        )
        assert asyncio.run(reopened.run()).status is Status.COMPLETED


def test_a_real_full_disk(tmp_path: Path) -> None:
    """On a 64 KB tmpfs (mounted in a user namespace), appends until the disk is full: the
    failed append raises, and every event written before it reads back."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed: no tmpfs can be mounted for this test")
    mount = tmp_path / "small"
    mount.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from plangate.workflow.events import MessageAdded
        from plangate.workflow.log import EventLog, LogWriteError
        log = EventLog(Path({str(mount)!r}) / "events.jsonl")
        written = 0
        try:
            for i in range(100_000):
                log.append(MessageAdded(role="user", content="x" * 500))
                written += 1
        except LogWriteError:
            pass
        events = EventLog(log.path).read()
        print(written, len(events), events[-1].seq)
        """
    )
    command = f'mount -t tmpfs -o size=64k tmpfs {mount} && {sys.executable} -c "$0"'
    result = subprocess.run(
        ["unshare", "-m", "-r", "sh", "-c", command, script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT / "server")},
    )
    if result.returncode != 0 and "mount" in result.stderr:
        pytest.skip(f"mounting a tmpfs is not allowed here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    written, read, last = map(int, result.stdout.split())
    assert 50 < written == read == last  # the disk filled; nothing written was lost


def test_a_log_replaced_under_an_open_writer_still_gets_every_event(tmp_path: Path) -> None:
    """The writer keeps its file open between appends; when another reader sets a bad line
    aside it replaces the file, and the next append must go to the new one, not the old."""
    log = EventLog(tmp_path / "s" / "events.jsonl")
    log.append(StatusChanged(status=Status.ANALYSING))
    with log.path.open("ab") as handle:
        handle.write(b"garbage\n")
    assert len(EventLog(log.path).read()) == 1  # replaces the file, the garbage set aside
    log.append(StatusChanged(status=Status.RUNNING))
    statuses = [e.event.status for e in EventLog(log.path).read()]  # type: ignore[union-attr]
    assert statuses == [Status.ANALYSING, Status.RUNNING]
