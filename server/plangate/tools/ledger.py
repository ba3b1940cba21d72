"""What the agent has read, and when: edits require a fresh read of the file."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class FileStamp(BaseModel):
    """Identity of a file's content at one moment."""

    model_config = ConfigDict(frozen=True)

    mtime_ns: int
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        """The stamp of `path` now, or None when it does not exist."""
        try:
            data = path.read_bytes()
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return cls(
            mtime_ns=info.st_mtime_ns, size=len(data), sha256=hashlib.sha256(data).hexdigest()
        )


@dataclass
class ReadRecord:
    """One read: the file's stamp then, and when."""

    stamp: FileStamp
    at: float


@dataclass
class ReadLedger:
    """Reads per resolved path."""

    records: dict[str, ReadRecord] = field(default_factory=dict)

    def record(self, path: Path, stamp: FileStamp) -> None:
        """Remember that `path` was read with content `stamp`."""
        self.records[str(path.resolve())] = ReadRecord(stamp, time.time())

    def get(self, path: Path) -> ReadRecord | None:
        """The last read of `path`, if any."""
        return self.records.get(str(path.resolve()))
