"""Agent files in the editor: diagnostics when opened and as they are typed (parsed off the
event loop), quick fixes,
hover on frontmatter keys, completion of tool names and actions (the work is in
`lsp/agentfiles.py`, imported on first use: it needs the agents package)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from plangate.lsp.server import PlanGateServer


def _is_agent_file(uri: str) -> bool:
    from plangate.lsp import agentfiles

    return agentfiles.is_agent_file(uri)


def _diagnostics(ls: PlanGateServer, uri: str) -> None:
    """Parse in a worker thread: a hostile file (aliases, a huge frontmatter) must not hold up
    the other requests. Published only if the document is still the version parsed: the
    parse of an older version may finish after a newer one's."""
    document = ls.workspace.get_text_document(uri)
    version, text = document.version, document.source

    async def parse() -> None:
        from plangate.lsp import agentfiles

        found = await asyncio.to_thread(agentfiles.diagnostics, uri, text)
        current = ls.workspace.text_documents.get(uri)
        if current is None or current.version == version:
            ls.diagnostics.set(uri, "agent file", found)

    ls.spawn(parse())


def opened(ls: PlanGateServer, uri: str) -> bool:
    """An agent file gets its diagnostics (and no other opener looks at it)."""
    if not _is_agent_file(uri):
        return False
    _diagnostics(ls, uri)
    return True


def did_change(ls: PlanGateServer, params: types.DidChangeTextDocumentParams) -> None:
    """Agent files are checked as they are typed."""
    if _is_agent_file(params.text_document.uri):
        _diagnostics(ls, params.text_document.uri)


def code_action(ls: PlanGateServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Quick fixes: a retired or unknown model becomes one PlanGate knows; a sampling key the
    API no longer accepts is removed; a value with an unquoted ': ' is quoted."""
    from plangate.lsp import agentfiles

    uri = params.text_document.uri
    if not agentfiles.is_agent_file(uri):
        return []
    return agentfiles.quick_fixes(uri, ls.workspace.get_text_document(uri).source, params)


def hover(ls: PlanGateServer, params: types.HoverParams) -> types.Hover | None:
    """What a frontmatter key of an agent file means."""
    from plangate.lsp import agentfiles

    uri = params.text_document.uri
    if not agentfiles.is_agent_file(uri):
        return None
    return agentfiles.hover(ls.workspace.get_text_document(uri).source, params.position)


def completion(ls: PlanGateServer, params: types.CompletionParams) -> list[types.CompletionItem]:
    """Tool names and allow / ask / deny in agent files."""
    from plangate.lsp import agentfiles

    uri = params.text_document.uri
    if not agentfiles.is_agent_file(uri):
        return []
    return agentfiles.completions(ls.workspace.get_text_document(uri).source, params.position)


def register(server: PlanGateServer) -> None:
    """The agent-file handlers, and the opener for agent files."""
    server.on_open(opened)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.on_code_action(code_action)
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" "])
    )(completion)
