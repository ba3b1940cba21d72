"""The append-only event log of a session: one fsync'd JSON line per event.

Everything else (status, plan, conversation, pending question) is derived by replaying it, so
a process killed at any moment resumes exactly where the user was.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class Event(BaseModel):
    """One thing that happened: a type and its data."""

    seq: int
    at: float
    type: str
    data: dict[str, Any]


class EventLog:
    """`.plangate/sessions/<id>/events.jsonl`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seq = 0

    def read(self) -> list[Event]:
        """Every event written so far; a torn last line (a crash mid-write) is ignored."""
        if not self.path.exists():
            return []
        events: list[Event] = []
        good = 0  # bytes of complete, valid lines
        with self.path.open("rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # the write was cut short: the event never happened
                try:
                    events.append(Event.model_validate_json(line))
                except ValueError:
                    break
                good += len(line)
        if good < self.path.stat().st_size:
            with self.path.open("r+b") as handle:  # drop the torn tail before appending
                handle.truncate(good)
        self._seq = events[-1].seq if events else 0
        return events

    @property
    def seq(self) -> int:
        """The number of the last event written or read."""
        return self._seq

    def append(self, type: str, data: dict[str, Any]) -> Event:
        """Write one event durably and return it."""
        self._seq += 1
        event = Event(seq=self._seq, at=time.time(), type=type, data=data)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(event.model_dump(mode="json"), separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return event
