"""`plangate serve`: the server built from its features, run over stdio or TCP.

`create_server()` makes a `PlanGateServer` and lets each module of `features/` register its
handlers, in order (the document openers are tried in that order: agent files and plans
before the catch-all for files the agent may not edit). There is no module-level server:
`plangate serve` and the tests each build their own.
"""

from __future__ import annotations

import logging
import sys

import plangate
from plangate.lsp import logs, stdio
from plangate.lsp.features import (
    agent_files,
    commands,
    documents,
    lifecycle,
    plans,
    requests,
    workspace_diagnostics,
)
from plangate.lsp.server import PlanGateServer

log = logging.getLogger("plangate.lsp")

FEATURES = (
    lifecycle,
    documents,
    agent_files,
    plans,
    workspace_diagnostics,
    requests,
    commands,
)


def create_server() -> PlanGateServer:
    """A server with every feature registered (each message after `initialized` waits for
    the engine's background import: `lifecycle.PreloadProtocol`)."""
    server = PlanGateServer(protocol_cls=lifecycle.PreloadProtocol)
    for feature in FEATURES:
        feature.register(server)
    return server


def serve(tcp: str | None = None) -> None:
    """Run over stdio, or on HOST:PORT."""
    # The event loop's thread answers the editor; worker threads (git, fsync, workspace walks)
    # hold the GIL for up to this long each time the loop makes a system call. 5 ms by
    # default: with twenty sessions, sessionStatus p99 of 57 ms against 47 at 1 ms (medians of
    # four runs of bench/sessions.py).
    sys.setswitchinterval(0.001)
    server = create_server()
    server.client_log = logs.configure(server.window_log_message)
    log.info("plangate %s serving (log file %s)", plangate.__version__, logs.log_file())
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        stdio.start_io(server)
