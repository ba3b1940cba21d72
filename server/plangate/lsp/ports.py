"""What the session machinery needs of the language server, as Protocols.

`sessions.py` and `approvals.py` are handed the server and use it through these, so they
depend on this module, not on `server.py`: `lsp/` has no import circle
(tests/unit/test_layers.py checks). `PlanGateServer` satisfies both; mypy checks it where it
hands itself over.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from lsprotocol import types
    from pygls.progress import Progress
    from pygls.protocol import LanguageServerProtocol
    from pygls.workspace import Workspace

    from plangate.lsp.diagnostics import DiagnosticStore
    from plangate.workflow.plan import Plan


class Editor(Protocol):
    """What the approvals adapter uses: the client's dialogs and edit previews, its open
    documents, and where a session works."""

    @property
    def workspace(self) -> Workspace:
        """The client's folders and open documents."""
        ...

    # Who the client is (`Visual Studio Code`, `Neovim`), when it said.
    client_info: types.ClientInfo | None

    @property
    def client_capabilities(self) -> types.ClientCapabilities:
        """What the client said it supports."""
        ...

    async def window_show_message_request_async(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        """Ask the user; None when dismissed."""
        ...

    async def window_show_document_async(
        self, params: types.ShowDocumentParams
    ) -> types.ShowDocumentResult:
        """Show a document (`external`: in the user's browser)."""
        ...

    def window_show_message(self, params: types.ShowMessageParams) -> None:
        """Tell the user."""
        ...

    async def workspace_apply_edit_async(
        self, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        """Send an edit (a preview, when annotated)."""
        ...

    @property
    def protocol(self) -> LanguageServerProtocol:
        """The JSON-RPC connection (`notify`, `send_request_async`)."""
        ...

    @property
    def closed_at(self) -> dict[str, float]:
        """When (event-loop time) the client last closed each document, by URI."""
        ...

    def session_changed(self, session_id: str) -> None:
        """A session's state changed: tell the client."""
        ...

    def workspace_of(self, session_id: str) -> Path:
        """The folder a session works in."""
        ...

    def plan_of(self, session_id: str) -> Plan | None:
        """A session's plan, once proposed."""
        ...


class Host(Editor, Protocol):
    """What the session manager uses besides: the API settings the client handed over,
    notifications, progress, diagnostics, the log and background tasks."""

    api_key: str | None
    base_url: str | None
    diagnostics: DiagnosticStore

    @property
    def work_done_progress(self) -> Progress:
        """Work-done progress shown by the client."""
        ...

    def log(self, message: str, level: str = "info") -> None:
        """To stderr, the log file and the client's log."""
        ...

    def spawn(self, awaitable: Awaitable[Any]) -> None:
        """Run in the background, keeping a reference until done."""
        ...

    def refresh_lenses(self) -> None:
        """Ask the client to request code lenses again."""
        ...
