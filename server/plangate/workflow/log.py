"""The append-only event log of a session: `.plangate/sessions/<id>/events.jsonl`.

Each event is one fsync'd JSON line, `{"seq", "at", "type", "data"}`, the shape logs have
always had, so old logs replay unchanged. Nothing written is ever lost to a later failure:
- an append is written whole or not at all (a short write or a full disk rolls the file back
  to its previous length and raises `LogWriteError`, which pauses the session loudly);
- the write happens in the append, in order, so a killed process loses nothing appended; the
  fsync that puts it on the disk runs in a worker thread when an event loop is running (it took
  a few milliseconds per event on the server's loop, where twenty sessions' fsyncs kept the
  editor's requests waiting), and `durable()` waits for it: a session goes on to its next step
  only once its events are on disk. A failed fsync fails the next append (or `durable()`);
- only a torn last line (a crash mid-write) is dropped on reading; any other line that cannot
  be read (garbage, an event this version does not know) is set aside in
  `events.rejected.jsonl` beside the log, reported, and replay goes on with the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from plangate.workflow.events import EVENT, SessionEvent

log = logging.getLogger(__name__)


# The fsyncs of every session's log, off the event loop (see the module's docstring).
_SYNCS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="plangate-log-sync")


class LogWriteError(OSError):
    """An event could not be written (the disk is full, ...); the log is as it was before."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LoggedEvent(BaseModel):
    """One line of the log: a number, a time, and the event."""

    seq: int
    at: float
    type: str
    data: dict[str, Any]

    @property
    def event(self) -> SessionEvent:
        """The typed event."""
        return EVENT.validate_python({**self.data, "type": self.type})


class EventLog:
    """`.plangate/sessions/<id>/events.jsonl`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seq = 0
        self._written = 0  # events written by this process (`_synced` of them on disk)
        self._synced = 0
        self._sync_lock = threading.Lock()
        self._sync_requested = False
        self._failure: LogWriteError | None = None  # a failed background fsync
        # Kept open between appends: on the server's loop every system call may hand the GIL
        # to another thread for a while, and open, mkdir and close were three of five.
        self._fd: int | None = None
        self._closer: weakref.finalize[[int], EventLog] | None = None

    def read(self) -> list[LoggedEvent]:
        """Every event written so far. A torn last line is dropped; other unreadable lines
        are set aside (see `rejected`) and the rest is read."""
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        lines = raw.splitlines(keepends=True)
        if lines and not lines[-1].endswith(b"\n"):
            lines.pop()  # the write was cut short: the event never happened
        events: list[LoggedEvent] = []
        kept: list[bytes] = []
        bad: list[tuple[int, bytes, str]] = []
        for number, line in enumerate(lines, start=1):
            try:
                logged = LoggedEvent.model_validate_json(line)
                logged.event  # noqa: B018  (an event this version cannot read is set aside too)
            except (ValidationError, ValueError) as exc:
                bad.append((number, line, str(exc).splitlines()[0]))
                continue
            events.append(logged)
            kept.append(line)
        if bad or len(raw) != sum(len(line) for line in lines):
            self._rewrite(b"".join(kept), bad)
        self._seq = max((e.seq for e in events), default=0)
        return events

    @property
    def rejected(self) -> Path:
        """Where unreadable lines are kept, with their line numbers and why."""
        return self.path.with_name("events.rejected.jsonl")

    def _rewrite(self, content: bytes, bad: list[tuple[int, bytes, str]]) -> None:
        """Keep the unreadable lines aside, then replace the log with the readable ones."""
        if bad:
            with self.rejected.open("a", encoding="utf-8") as side:
                for number, line, why in bad:
                    text = line.decode("utf-8", "replace").rstrip("\n")
                    side.write(json.dumps({"line": number, "text": text, "why": why}) + "\n")
            log.warning(
                "%s: %d unreadable line(s) set aside in %s", self.path, len(bad), self.rejected
            )
        temp = self.path.with_suffix(".jsonl.tmp")
        temp.write_bytes(content)
        os.replace(temp, self.path)
        self._close()  # the file appended to until now is no longer the log

    @property
    def seq(self) -> int:
        """The number of the last event written or read."""
        return self._seq

    def append(self, event: SessionEvent) -> LoggedEvent:
        """Write one event and return its line; all of it or nothing. Durable at once when
        no event loop runs in this thread, else once `durable()` returns."""
        self._raise_failure()
        data = event.model_dump(mode="json", exclude={"type"}, exclude_none=False)
        logged = LoggedEvent(seq=self._seq + 1, at=time.time(), type=event.type, data=data)
        line = (json.dumps(logged.model_dump(mode="json"), separators=(",", ":")) + "\n").encode()
        loop = _running_loop()
        fd = self._open()
        try:
            status = os.fstat(fd)
            if status.st_nlink == 0:  # replaced or deleted under us: append to the log itself
                self._close()
                fd = self._open()
                status = os.fstat(fd)
            before = status.st_size
            try:
                written = 0
                while written < len(line):
                    count = os.write(fd, line[written:])
                    if count <= 0:
                        raise OSError("nothing written")
                    written += count
                if loop is None:
                    os.fsync(fd)
            except OSError as exc:
                os.ftruncate(fd, before)  # no torn line for later events to be glued onto
                raise LogWriteError(
                    exc.errno, f"could not write the session log {self.path}: {exc.strerror or exc}"
                ) from exc
        except OSError:
            self._close()  # opened again by the next append
            raise
        self._seq += 1
        self._written += 1
        if loop is None:
            self._synced = self._written
        elif not self._sync_requested:
            self._sync_requested = True
            loop.run_in_executor(_SYNCS, self._sync_in_background)
        return logged

    def _open(self) -> int:
        """The log's file, opened for appending (folder and file created) on first use."""
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._fd, self._closer = fd, weakref.finalize(self, os.close, fd)
        return self._fd

    def _close(self) -> None:
        if self._closer is not None:
            self._closer()  # closes the file once, here or when the log is collected
        self._fd = self._closer = None

    def _sync_in_background(self) -> None:
        self._sync_requested = False  # what is appended from now on needs another fsync
        try:
            self.sync()
        except LogWriteError as exc:
            self._failure = exc  # the next append, or `durable()`, raises it

    def _raise_failure(self) -> None:
        """Raise a failed background fsync, once: the session pauses, and a later append
        (once resumed) tries again."""
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def sync(self) -> None:
        """Put every event written so far on the disk (fsync); LogWriteError if it fails."""
        target = self._written
        with self._sync_lock:
            if self._synced >= target:
                return  # another sync covered them meanwhile
            try:
                fd = os.open(self.path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise LogWriteError(
                    exc.errno, f"could not write the session log {self.path}: {exc.strerror or exc}"
                ) from exc
            self._synced = max(self._synced, target)

    async def durable(self) -> None:
        """Return once every event appended so far is on the disk, without blocking the event
        loop; LogWriteError if it cannot be."""
        self._raise_failure()
        if self._synced < self._written:
            try:
                await asyncio.get_running_loop().run_in_executor(_SYNCS, self.sync)
            except LogWriteError:
                self._failure = None  # the same failure, reported here
                raise
