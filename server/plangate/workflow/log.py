"""The append-only event log of a session: `.plangate/sessions/<id>/events.jsonl`.

Each event is one fsync'd JSON line, `{"seq", "at", "type", "data"}`, the shape logs have
always had, so old logs replay unchanged. Nothing written is ever lost to a later failure:
- an append is written whole or not at all (a short write or a full disk rolls the file back
  to its previous length and raises `LogWriteError`, which pauses the session loudly);
- only a torn last line (a crash mid-write) is dropped on reading; any other line that cannot
  be read (garbage, an event this version does not know) is set aside in
  `events.rejected.jsonl` beside the log, reported, and replay goes on with the rest.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from plangate.workflow.events import EVENT, SessionEvent

log = logging.getLogger(__name__)


class LogWriteError(OSError):
    """An event could not be written (the disk is full, ...); the log is as it was before."""


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

    @property
    def seq(self) -> int:
        """The number of the last event written or read."""
        return self._seq

    def append(self, event: SessionEvent) -> LoggedEvent:
        """Write one event durably and return its line; all of it or nothing."""
        data = event.model_dump(mode="json", exclude={"type"}, exclude_none=False)
        logged = LoggedEvent(seq=self._seq + 1, at=time.time(), type=event.type, data=data)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(logged.model_dump(mode="json"), separators=(",", ":")) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            before = os.fstat(fd).st_size
            try:
                written = 0
                while written < len(line):
                    count = os.write(fd, line[written:])
                    if count <= 0:
                        raise OSError("nothing written")
                    written += count
                os.fsync(fd)
            except OSError as exc:
                os.ftruncate(fd, before)  # no torn line for later events to be glued onto
                raise LogWriteError(
                    exc.errno, f"could not write the session log {self.path}: {exc.strerror or exc}"
                ) from exc
        finally:
            os.close(fd)
        self._seq += 1
        return logged
