"""The paths a git repository tracks, read from its index file (`.git/index`).

A reading git command that shows file contents without naming the files (`git diff`, `git log
-p`, `git show`, `git grep`) shows every tracked file it touches: when the repository tracks a
file the read rules guard (a committed `.env.production`), such a command reads it. Reading
the index directly (formats 2, 3 and 4, SHA-1 or SHA-256) costs no process; the answer is
cached until the index file changes.
"""

from __future__ import annotations

import os
import struct
import threading

_LOCK = threading.Lock()
_CACHE: dict[str, tuple[tuple[int, int], frozenset[str] | None]] = {}
_ENTRY_FIXED = 40  # ctime, mtime, dev, ino, mode, uid, gid, size: ten 32-bit fields


class _Unreadable(Exception):
    """The index is not in a format this reader knows."""


def tracked_paths(index_file: str) -> frozenset[str] | None:
    """The paths `index_file` lists (repository-relative); an empty set when there is no index,
    None when it cannot be read (then nothing can be said about what is tracked)."""
    try:
        stat = os.stat(index_file)
    except OSError:
        return frozenset()
    key = (stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        cached = _CACHE.get(index_file)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        with open(index_file, "rb") as handle:
            paths: frozenset[str] | None = _parse(handle.read())
    except (OSError, _Unreadable, struct.error, UnicodeDecodeError):
        paths = None
    with _LOCK:
        _CACHE[index_file] = (key, paths)
    return paths


def _parse(data: bytes) -> frozenset[str]:
    signature, version, count = struct.unpack_from(">4sII", data, 0)
    if signature != b"DIRC" or version not in (2, 3, 4):
        raise _Unreadable
    # The checksum at the end is as long as an object id: 20 bytes (SHA-1) or 32 (SHA-256).
    for hash_size in (20, 32):
        try:
            return _entries(data, version, count, hash_size)
        except _Unreadable:
            continue
    raise _Unreadable


def _entries(data: bytes, version: int, count: int, hash_size: int) -> frozenset[str]:
    offset = 12
    previous = b""
    paths: list[str] = []
    for _ in range(count):
        start = offset
        offset += _ENTRY_FIXED + hash_size
        (flags,) = struct.unpack_from(">H", data, offset)
        offset += 2
        if version >= 3 and flags & 0x4000:
            offset += 2  # extended flags
        if version == 4:
            strip, offset = _varint(data, offset)
            end = data.index(b"\0", offset)
            if strip > len(previous):
                raise _Unreadable
            path = previous[: len(previous) - strip] + data[offset:end]
            offset = end + 1
        else:
            end = data.index(b"\0", offset)
            path = data[offset:end]
            # Entries are padded with 1 to 8 NUL bytes to a multiple of eight.
            offset = start + ((end - start) // 8 + 1) * 8
        if offset > len(data) - hash_size:
            raise _Unreadable
        previous = path
        paths.append(path.decode("utf-8"))
    return frozenset(paths)


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    """git's offset varint (index format 4)."""
    byte = data[offset]
    offset += 1
    value = byte & 0x7F
    while byte & 0x80:
        byte = data[offset]
        offset += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, offset
