"""didOpen, didClose and codeAction: LSP allows one handler each, so the features that look at
a document when it opens (agent files, plans, the files the agent may not edit) register an
opener with `PlanGateServer.on_open`, the first one that claims the document handling it; and
those with code actions (agent files' quick fixes, a plan's buttons) register a provider with
`PlanGateServer.on_code_action`, whose actions are offered together."""

from __future__ import annotations

import asyncio
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
    """Remember when: a preview of the file right after it closed waits a moment (see
    `LspApprovals._settle`)."""
    ls.closed_at[params.text_document.uri] = asyncio.get_running_loop().time()


def code_action(ls: PlanGateServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Every feature's code actions for the range."""
    return [action for provider in ls.code_actions for action in provider(ls, params)]


def register(server: PlanGateServer) -> None:
    """didOpen, didClose and codeAction."""
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )(code_action)
