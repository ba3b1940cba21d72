"""initialize, initialized, configuration changes and shutdown, and the background import of
the engine.

Only pygls and lsprotocol load before `initialize`: the engine and the SDK take over a second
to import, so they load in a background thread once the client has its `initialize` answer.
Handlers import the engine lazily; `PreloadProtocol` makes every message after `initialized`
wait for that thread, so a handler's import never crosses the thread's import locks.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCResponse

if TYPE_CHECKING:
    from plangate.lsp.server import PlanGateServer


# Handled without waiting for the import: they import nothing, and a client gives shutdown
# little time (eglot 1.5 s) before it kills the server.
NO_WAIT = frozenset({"shutdown", "exit", "$/cancelRequest"})


class PreloadProtocol(LanguageServerProtocol):
    """Every message after `initialized` waits for the background import to finish.

    Handlers import the engine lazily; had one imported while the background thread was
    importing the same packages, the two threads' import locks could cross and one would see a
    partially initialized module (an ImportError seen in the LSP tests). Responses to our own
    requests do not wait: nothing imports on their way."""

    def handle_message(self, message: Any) -> None:
        """Wait for the preload thread (while it runs), then handle as usual."""
        preload = getattr(self._server, "preload", None)
        if (
            preload is not None
            and preload.is_alive()
            and not isinstance(message, RPCResponse)
            and getattr(message, "method", None) not in NO_WAIT
        ):
            preload.join()
        super().handle_message(message)


def initialize(ls: PlanGateServer, params: types.InitializeParams) -> None:
    """The editor may hand over the API key (and, for tests, the scripted server's URL)."""
    ls.client_info = params.client_info
    options = params.initialization_options or {}
    if isinstance(options, dict):
        ls.api_key = options.get("anthropicApiKey") or None
        ls.base_url = options.get("anthropicBaseUrl") or None
    if ls.client_log is not None:
        ls.client_log.bind()


def did_change_configuration(
    ls: PlanGateServer, params: types.DidChangeConfigurationParams
) -> None:
    """New settings (under `plangate`, or flat): a fixed API key or URL counts for sessions
    started or resumed from now on (`plangate/resume` rebuilds a session with them)."""
    settings = params.settings
    options = settings.get("plangate", settings) if isinstance(settings, dict) else None
    if not isinstance(options, dict):
        return
    if "anthropicApiKey" in options:
        ls.api_key = _text(options["anthropicApiKey"])
    if "anthropicBaseUrl" in options:
        ls.base_url = _text(options["anthropicBaseUrl"])


def _text(value: Any) -> str | None:
    """A setting's string, or None (unset, empty, or not a string at all)."""
    return value if isinstance(value, str) and value else None


def initialized(ls: PlanGateServer, params: types.InitializedParams) -> None:
    """The engine and the SDK take over a second to import: load them in the background once
    the client has its `initialize` answer (a thread started earlier would compete with the
    answer for the GIL), so the first session does not wait for them."""
    ls.preload = threading.Thread(target=_preload, daemon=False)
    ls.preload.start()


def shutdown(ls: PlanGateServer, params: None) -> None:
    """Answered at once, the engine's import still running or not: the import thread is not
    a daemon, so the interpreter waits for it at exit (a daemon thread stopped inside
    pydantic-core's Rust code at interpreter exit aborts the process)."""


def _preload() -> None:
    import plangate.model.factory
    import plangate.workflow.session  # noqa: F401


def register(server: PlanGateServer) -> None:
    """The lifecycle handlers (the server is built with `PreloadProtocol`)."""
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.SHUTDOWN)(shutdown)
