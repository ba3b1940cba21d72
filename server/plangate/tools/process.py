"""Running a command: its own process group, a timeout, streamed and capped output.

The whole output goes to a file under `.plangate/outputs/`; the model gets the head and the tail
(about 30,000 characters) and the file's path. On timeout or cancel the process group is
terminated, then killed, children and grandchildren included. If PlanGate itself dies, even by
SIGKILL, the command dies with it (`reaper.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from plangate.tools.base import OutputSink
from plangate.tools.reaper import REAPER, die_with_parent

HEAD_CHARS = 15_000
TAIL_CHARS = 15_000
_CHUNK = 65536
_GRACE = 2.0


@dataclass
class _Capture:
    head: list[str] = field(default_factory=list)
    head_size: int = 0
    tail: str = ""
    total: int = 0

    def add(self, text: str) -> None:
        self.total += len(text)
        if self.head_size < HEAD_CHARS:
            take = text[: HEAD_CHARS - self.head_size]
            self.head.append(take)
            self.head_size += len(take)
            text = text[len(take) :]
        if text:
            self.tail = (self.tail + text)[-TAIL_CHARS:]

    def render(self) -> str:
        head = "".join(self.head)
        omitted = self.total - len(head) - len(self.tail)
        if omitted <= 0:
            return head + self.tail
        return f"{head}\n... [{omitted:,} characters omitted] ...\n{self.tail}"


@dataclass
class Completed:
    """How a command ended."""

    exit_code: int | None
    output: str  # head and tail, for the model
    total_chars: int
    log_path: Path
    timed_out: bool
    cancelled: bool
    seconds: float

    @property
    def truncated(self) -> bool:
        """True when the model sees only part of the output."""
        return self.total_chars > len(self.output)


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def run_command(
    argv: list[str],
    cwd: Path,
    log_path: Path,
    timeout: float,
    on_output: OutputSink | None = None,
    env: dict[str, str] | None = None,
    *,
    dies_with_parent: bool = False,
) -> Completed:
    """Run `argv` in a new session; stream output; kill the whole group on timeout or cancel.
    `dies_with_parent`: `argv` already dies with PlanGate (bwrap's `--die-with-parent`), so no
    setpriv in front of it (a process start less)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    preexec = None
    if not dies_with_parent:
        argv, preexec = die_with_parent(argv)
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec,
        env=env,
    )
    REAPER.watch(process.pid)
    try:
        return await _supervise(process, log_path, timeout, on_output, started)
    finally:
        # Whatever the command left behind in its group goes too, however this ended.
        _kill_group(process.pid, signal.SIGKILL)
        REAPER.release(process.pid)


async def _supervise(
    process: asyncio.subprocess.Process,
    log_path: Path,
    timeout: float,
    on_output: OutputSink | None,
    started: float,
) -> Completed:
    """Stream `process`'s output to the log and the sink until it ends, times out or is
    cancelled (then its group is terminated, then killed)."""
    capture = _Capture()
    timed_out = cancelled = False
    with log_path.open("w", encoding="utf-8", errors="replace") as log:
        assert process.stdout is not None
        stream = process.stdout

        async def pump() -> None:
            decoder_tail = b""
            while chunk := await stream.read(_CHUNK):
                data = decoder_tail + chunk
                try:
                    text = data.decode("utf-8")
                    decoder_tail = b""
                except UnicodeDecodeError as exc:
                    if exc.start >= len(data) - 3:  # a character split across chunks
                        text, decoder_tail = data[: exc.start].decode(), data[exc.start :]
                    else:
                        text, decoder_tail = data.decode("utf-8", errors="replace"), b""
                log.write(text)
                capture.add(text)
                if on_output is not None:
                    on_output("output", text)
            if decoder_tail:
                text = decoder_tail.decode("utf-8", errors="replace")
                log.write(text)
                capture.add(text)

        reader = asyncio.ensure_future(pump())
        try:
            await asyncio.wait_for(asyncio.shield(reader), timeout)
        except TimeoutError:
            timed_out = True
        except asyncio.CancelledError:
            cancelled = True
        if timed_out or cancelled:
            _kill_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), _GRACE)
            _kill_group(process.pid, signal.SIGKILL)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        exit_code = await process.wait()
    completed = Completed(
        exit_code=None if timed_out or cancelled else exit_code,
        output=capture.render(),
        total_chars=capture.total,
        log_path=log_path,
        timed_out=timed_out,
        cancelled=cancelled,
        seconds=time.monotonic() - started,
    )
    if cancelled:
        raise asyncio.CancelledError
    return completed
