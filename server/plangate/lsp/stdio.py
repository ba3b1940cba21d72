"""The client's messages over stdio, read on the event loop itself.

pygls reads stdin in a worker thread, one `readline` or `read` per round trip: a message costs
three turns of the event loop (its header, the blank line, its body). While sessions keep the
loop busy, each turn waits for everything already queued, and the replies the client sends to
our own requests (applied edits, refreshed lenses, progress) queue ahead of its next request:
with 20 sessions a `plangate/sessionStatus` waited up to seconds before its handler ran.
Here stdin is a pipe the loop watches (`connect_read_pipe`): whatever has arrived is parsed in
one go, by pygls's own message loop. Anything that is not a pipe, socket or terminal (a file)
is read the pygls way.

Replies and notifications go out the same way: pygls writes them with a blocking `write` and
`flush`, so a client slow to read (busy with the notifications of twenty sessions) stalled the
whole loop until it caught up. An asyncio pipe transport never blocks: what the pipe does not
take yet waits in its buffer and goes out as the client reads.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

if TYPE_CHECKING:
    from pygls.server import JsonRPCServer

log = logging.getLogger("plangate.lsp")

# Header lines are short; bodies are read by length (`readexactly` has no limit).
HEADER_LIMIT = 64 * 1024
CLOSE_DRAIN_STEPS = 200  # x 10 ms: at exit, how long what is buffered may take to go out


class PipeReader:
    """pygls's reader interface on an asyncio stream: `readline`, and `readexactly` that
    gives what there is at the end of input (as a file's `read` does) instead of raising."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        """One line with its break; b"" at the end of input."""
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        """`n` bytes, or fewer at the end of input."""
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


class PipeWriter:
    """pygls's writer interface on an asyncio pipe transport (writes never block)."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        """Send `data` as soon as the pipe takes it."""
        self.transport.write(data)

    def close(self) -> Awaitable[None]:
        """Close once what is buffered has gone out (pygls exits when this is done)."""
        return self._drain_and_close()

    async def _drain_and_close(self) -> None:
        for _ in range(CLOSE_DRAIN_STEPS):
            if self.transport.get_write_buffer_size() == 0:
                break
            await asyncio.sleep(0.01)
        self.transport.close()


async def _writer(stdout: BinaryIO) -> PipeWriter | StdoutWriter:
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.connect_write_pipe(asyncio.Protocol, stdout)
    except (ValueError, OSError) as exc:  # a regular file: written the pygls way
        log.debug("stdout written with blocking writes: %s", exc)
        return StdoutWriter(stdout)
    return PipeWriter(transport)


async def _reader(server: JsonRPCServer, stdin: BinaryIO) -> PipeReader | StdinAsyncReader:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=HEADER_LIMIT, loop=loop)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    except (ValueError, OSError) as exc:  # a regular file: the loop cannot watch it
        log.debug("stdin read in a thread: %s", exc)
        return StdinAsyncReader(stdin, server.thread_pool)
    return PipeReader(stream)


async def _serve(
    server: JsonRPCServer, stop: threading.Event, stdin: BinaryIO, stdout: BinaryIO
) -> None:
    # A sync `write` with an awaitable `close`: pygls awaits whatever is awaitable.
    writer: Any = await _writer(stdout)
    server.protocol.set_writer(writer)
    await run_async(
        stop_event=stop,
        reader=await _reader(server, stdin),
        protocol=server.protocol,
        logger=log,
        error_handler=server.report_server_error,
    )


def start_io(server: JsonRPCServer) -> None:
    """Serve over stdin and stdout until the client exits (pygls's `start_io`, with both
    pipes on the event loop)."""
    stop = threading.Event()
    server._stop_event = stop
    try:
        asyncio.run(_serve(server, stop, sys.stdin.buffer, sys.stdout.buffer))
    except BrokenPipeError:
        log.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        shutdown: Callable[[], None] = server.shutdown  # untyped in pygls
        shutdown()
