"""Questions the editor answers in a message (`window/showMessageRequest`): a command to
allow, a remote MCP server to sign in to (its page opened in the user's browser)."""

from __future__ import annotations

from lsprotocol import types

from plangate.lsp.ports import Editor
from plangate.workflow.approvals import Answer, Question

ALLOW_ONCE, ALLOW_SESSION, DENY = "Allow once", "Allow for this session", "Deny"
SIGN_IN, CANCEL = "Open the sign-in page", "Cancel"


async def permission(server: Editor, question: Question) -> Answer:
    """A command the rules ask about (or a question of its own, a project's MCP server to
    start), as a message with Allow once / Allow for this session / Deny; dismissed is no."""
    if question.decision is not None:  # a command the rules say to ask about
        message = f"PlanGate: run `{question.command}`?\n{question.decision.reason}"
    else:  # a question of its own (an MCP server to start): its title says it all
        message = f"PlanGate: {question.title}"
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Warning,
        message=message,
        actions=[types.MessageActionItem(title=t) for t in (ALLOW_ONCE, ALLOW_SESSION, DENY)],
    )
    chosen = await server.window_show_message_request_async(params)
    title = chosen.title if chosen is not None else DENY  # dismissed is no
    return Answer(choice={ALLOW_ONCE: "once", ALLOW_SESSION: "session"}.get(title, "deny"))


async def sign_in(server: Editor, question: Question, url: str) -> Answer:
    """Offer a remote MCP server's sign-in page: opened in the user's browser
    (`window/showDocument`) when the editor can, else its address is in the message."""
    window = server.client_capabilities.window
    can_open = bool(window and window.show_document and window.show_document.support)
    message = f"PlanGate: {question.title}"
    if not can_open:
        message += f"\n{url}"
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Info,
        message=message,
        actions=[types.MessageActionItem(title=t) for t in (SIGN_IN, CANCEL)],
    )
    chosen = await server.window_show_message_request_async(params)
    if chosen is None or chosen.title != SIGN_IN:
        return Answer(choice="cancel")
    if can_open:
        shown = await server.window_show_document_async(
            types.ShowDocumentParams(uri=url, external=True)
        )
        if not shown.success:
            server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message=f"PlanGate: open this page to sign in: {url}",
                )
            )
    return Answer(choice="open")
