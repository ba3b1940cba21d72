"""The server's own JSON-RPC errors (kept apart from the pydantic models, which load lazily)."""

from __future__ import annotations

from pygls.exceptions import JsonRpcServerError

# Error codes of our own (JSON-RPC leaves -32000..-32099 to servers).
UNKNOWN_SESSION = -32001
NO_PENDING_APPROVAL = -32002
UNKNOWN_AGENT = -32003
ROLLBACK_REFUSED = -32004  # nothing was changed: the message says why, and the files
NOT_PAUSED = -32005  # plangate/resume of a session that is not paused


def server_error(message: str, code: int) -> Exception:
    """A JSON-RPC error with one of our codes (pygls's constructor is untyped)."""
    return JsonRpcServerError(message, code)  # type: ignore[no-untyped-call]
