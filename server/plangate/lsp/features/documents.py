"""didOpen and didClose: LSP allows one handler each, so the features that look at a document
when it opens (agent files, plans, the files the agent may not edit) register an opener with
`PlanGateServer.on_open`; the first one that claims the document handles it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from plangate.lsp.server import PlanGateServer


def did_open(ls: PlanGateServer, params: types.DidOpenTextDocumentParams) -> None:
    """Hand a file the editor opened to the first opener that claims it."""
    uri = params.text_document.uri
    if not uri.startswith("file://"):
        return
    for opener in ls.openers:
        if opener(ls, uri):
            return


def did_close(ls: PlanGateServer, params: types.DidCloseTextDocumentParams) -> None:
    """Nothing to release; registered so openClose sync is advertised."""


def register(server: PlanGateServer) -> None:
    """didOpen and didClose."""
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
