"""The language server: what the features share (the sessions, the diagnostics, the API
settings the client handed over, background tasks, the log).

It registers no handler itself: `app.create_server()` builds one and lets each module of
`features/` register its own. `sessions.py` and `approvals.py` use it through the Protocols
of `ports.py`. Nothing but LSP goes to stdout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

import plangate
from plangate.lsp.diagnostics import DiagnosticStore
from plangate.lsp.sessions import SessionManager

if TYPE_CHECKING:
    import threading
    from pathlib import Path

    from lsprotocol import types

    from plangate.lsp.logs import ClientLogHandler
    from plangate.workflow.plan import Plan

log = logging.getLogger("plangate.lsp")

REFRESH_ROUNDS = 100  # refreshes one task sends back to back while lenses keep changing
REFRESH_TIMEOUT = 10.0  # seconds a client may take to answer one

# Looks at a document the editor opened; True when it was the opener's to handle.
Opener = Callable[["PlanGateServer", str], bool]
# The code actions a feature offers for a document (none when it is not the feature's).
CodeActions = Callable[["PlanGateServer", "types.CodeActionParams"], list["types.CodeAction"]]


class PlanGateServer(LanguageServer):
    """The server, with the sessions it runs."""

    def __init__(self, protocol_cls: type[LanguageServerProtocol] = LanguageServerProtocol) -> None:
        super().__init__("plangate", plangate.__version__, protocol_cls=protocol_cls)
        self.sessions = SessionManager(self)
        self.api_key: str | None = None
        self.base_url: str | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self.client_log: ClientLogHandler | None = None
        self.diagnostics = DiagnosticStore(self.text_document_publish_diagnostics)
        self.preload: threading.Thread | None = None  # the engine's import (features.lifecycle)
        self.openers: list[Opener] = []
        self._refreshing = False  # a codeLens/refresh is out
        self._refresh_again = False  # lenses changed since it went
        self.code_actions: list[CodeActions] = []
        self.closed_at: dict[str, float] = {}  # URI -> loop time of its last didClose
        self.client_info: types.ClientInfo | None = None  # who the client said it is

    def on_open(self, opener: Opener) -> None:
        """Look at documents as they open, after the openers registered before."""
        self.openers.append(opener)

    def on_code_action(self, provider: CodeActions) -> None:
        """Offer code actions (LSP allows one handler: `features.documents` asks them all)."""
        self.code_actions.append(provider)

    def spawn(self, awaitable: Awaitable[Any]) -> None:
        """Fire and forget, keeping a reference until it is done."""
        future = asyncio.ensure_future(awaitable)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    def log(self, message: str, level: str = "info") -> None:
        """To stderr, the log file and the client's log (never secrets)."""
        getattr(log, level)(message)

    def session_changed(self, session_id: str) -> None:
        """A session's state changed: notify and refresh lenses."""
        self.sessions.session_changed(session_id)

    def workspace_of(self, session_id: str) -> Path:
        """The folder a session works in."""
        return self.sessions.workspace_of(session_id)

    def plan_of(self, session_id: str) -> Plan | None:
        """A session's plan, once proposed."""
        return self.sessions.get(session_id).session.state.plan

    def refresh_lenses(self) -> None:
        """Ask the client to re-request code lenses, when it supports that. One request at a
        time: changes while one is out get a single one after it (twenty sessions' changes
        made hundreds, each answered by the client and followed by its lens requests)."""
        workspace = self.client_capabilities.workspace
        lens = workspace.code_lens if workspace else None
        if not (lens and lens.refresh_support):
            return
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        self.spawn(self._refresh())

    async def _refresh(self) -> None:
        try:
            for _ in range(REFRESH_ROUNDS):
                self._refresh_again = False
                try:
                    await asyncio.wait_for(
                        self.workspace_code_lens_refresh_async(None), REFRESH_TIMEOUT
                    )
                except Exception as exc:  # a client that says it refreshes but does not
                    log.debug("codeLens/refresh failed: %r", exc)
                if not self._refresh_again:
                    return
        finally:
            self._refreshing = False
        if self._refresh_again:  # still changing after so many rounds: go on in a new task
            self.refresh_lenses()
