"""Where the server's log goes: stderr, the client's log (`window/logMessage`, by level) and a
rotating file under the user's state folder. stdout carries LSP only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import os
import threading
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcException

# window/logMessage (the server's `window_log_message`).
Send = Callable[[types.LogMessageParams], None]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


def log_file() -> Path:
    """`$XDG_STATE_HOME/plangate/logs/server.log`, by default under `~/.local/state`."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "plangate" / "logs" / "server.log"


class ClientLogHandler(logging.Handler):
    """Sends records to the client as `window/logMessage`, from whichever thread logged them."""

    def __init__(self, send: Send) -> None:
        super().__init__(logging.INFO)
        self.send = send
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record; dropped quietly before the client is there."""
        kind = LEVELS.get(record.levelno, types.MessageType.Log)
        params = types.LogMessageParams(type=kind, message=self.format(record))
        if self.loop is None:
            return  # before `initialize` there is no one to tell
        if threading.get_ident() == self.loop_thread:
            self._send(params)
        else:  # the transport belongs to the event loop's thread
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self.loop.call_soon_threadsafe(self._send, params)

    def _send(self, params: types.LogMessageParams) -> None:
        with contextlib.suppress(Exception):  # no client (yet, or any more)
            self.send(params)

    def bind(self) -> None:
        """Remember the event loop's thread (call from it, once the server runs)."""
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()


class ClientErrors(logging.Filter):
    """pygls logs every error answer with a traceback; a client's bad params or unknown session
    is the client's mistake, answered with a clear error, not a server fault worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless it carries one of the errors we raise on purpose."""
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, JsonRpcException) or error.code == -32603


def configure(send: Send) -> ClientLogHandler:
    """Route the `plangate` loggers (to the client through `send`); third-party chatter (pygls
    logs whole messages, the API key in `initializationOptions` included) stays at warnings,
    and off the client."""
    stderr = logging.StreamHandler()
    stderr.setFormatter(logging.Formatter(FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[stderr])
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(ClientErrors())
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per model request
    ours = logging.getLogger("plangate")
    client = ClientLogHandler(send)
    client.setFormatter(logging.Formatter("%(message)s"))
    ours.addHandler(client)
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:  # a read-only home must not stop the server
        ours.warning("no log file at %s: %s", path, exc)
    else:
        rotating.setFormatter(logging.Formatter(FORMAT))
        logging.getLogger().addHandler(rotating)
    return client
