"""The `plangate.*` commands (`workspace/executeCommand`): the code-lens buttons, so every
client can press them. Each takes the fields of the matching request, in order, and answers
like it; a wrong argument is -32602 naming it.

The arguments are taken as `*args` and validated by the request models rather than by pygls's
typed command arguments: those cannot express the optional trailing `feedback`, convert
leniently (5 becomes "5"), and answer a wrong count with "Expected 3 arguments, got 2",
naming no argument and skipping the models' constraints (a phase is at least 1).
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from plangate.lsp.features import requests
from plangate.lsp.params import arguments, dump, parse

# Resolved at runtime: pygls reads a command's annotations to convert its arguments.
from plangate.lsp.server import PlanGateServer


async def approve_phase(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """The lens buttons: sessionId, phase, decision[, feedback[, kind]], as
    `plangate/approvePhase`. Revise… without feedback sends the user's edits of the plan
    document, or asks for some."""
    from plangate.lsp.protocol import ApprovePhaseParams

    names = ("sessionId", "phase", "decision", "feedback", "kind")
    request = parse(ApprovePhaseParams, arguments(names, args, 3))
    if request.decision == "revise" and not request.feedback.strip():
        request.feedback = _plan_edits(ls, request.session_id)
        if not request.feedback and not await _revise_without_note(ls, request.phase):
            return dump(ls.sessions.summary(request.session_id))
    return requests.approve(ls, request)


def _plan_edits(ls: PlanGateServer, session_id: str) -> str:
    """The user's own edits of the plan document, as revision feedback ("" when none)."""
    import difflib

    from plangate.lsp.params import buffer_of
    from plangate.workflow.plan import render_markdown

    live = ls.sessions.get(session_id)
    state = live.session.state
    if state.plan is None:
        return ""
    proposed = render_markdown(state.plan)
    path = ls.sessions.plan_path(session_id)
    document = buffer_of(ls.workspace.text_documents, path)
    if document is not None:
        edited = document.source
    elif path.exists():
        edited = path.read_text(encoding="utf-8")
    else:
        return ""
    if edited == proposed:
        return ""
    lines = proposed.splitlines(), edited.splitlines()
    diff = difflib.unified_diff(*lines, "proposed plan", "edited by the user", lineterm="")
    return "The user edited the plan document:\n" + "\n".join(diff)


async def _revise_without_note(ls: PlanGateServer, phase: int) -> bool:
    """No feedback given: say how to give some (LSP has no text input), or revise anyway."""
    what = "the plan" if phase == 0 else f"phase {phase}"
    chosen = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=f"PlanGate: what should change in {what}? Edit the plan document and press "
            "Revise… again, and the model gets your edits; or revise without a note.",
            actions=[types.MessageActionItem(title=t) for t in ("Revise without a note", "Cancel")],
        )
    )
    return chosen is not None and chosen.title == "Revise without a note"


ROLL_BACK = "Roll Back"


async def rollback_phase(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """The Roll back lens: sessionId, phase. Asks first, naming the files it puts back."""
    from plangate.lsp.protocol import RollbackParams
    from plangate.workflow.rollback import listed

    params = arguments(("sessionId", "phase"), args, 2)
    request = parse(RollbackParams, params)
    files = ls.sessions.get(request.session_id).session.rollback_files(request.phase)
    what = f"the agent's changes to {listed(files)}" if files else "nothing (no file changed)"
    chosen = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=f"PlanGate: roll back phase {request.phase}? It undoes {what}. "
            "Changes anyone else made are kept.",
            actions=[types.MessageActionItem(title=t) for t in (ROLL_BACK, "Cancel")],
        )
    )
    if chosen is None or chosen.title != ROLL_BACK:
        return dump(ls.sessions.summary(request.session_id))
    return requests.rollback_phase(ls, params)


def cancel(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """Cancel from a command: sessionId."""
    return requests.cancel(ls, arguments(("sessionId",), args, 1))


def resume(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """The Resume lens and code action: sessionId."""
    return requests.resume(ls, arguments(("sessionId",), args, 1))


async def show_plan_change(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """The "Show the change to the plan" lens: sessionId. The pending amendment's or
    revision's diff of the plan, written beside the plan document and shown."""
    from plangate.lsp.protocol import SessionParams

    request = parse(SessionParams, arguments(("sessionId",), args, 1))
    summary = ls.sessions.summary(request.session_id)
    diff = (summary.pending or {}).get("diff")
    if diff:
        path = ls.sessions.plan_path(request.session_id).with_suffix(".change.diff")
        path.write_text(diff, encoding="utf-8")
        await ls.window_show_document_async(
            types.ShowDocumentParams(uri=path.as_uri(), take_focus=True)
        )
    return dump(summary)


def status(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """The status lens: sessionId; shows where the session is."""
    return requests.session_status(ls, arguments(("sessionId",), args, 1))


COMMANDS = {
    "plangate.approvePhase": approve_phase,
    "plangate.rollbackPhase": rollback_phase,
    "plangate.cancel": cancel,
    "plangate.resume": resume,
    "plangate.status": status,
    "plangate.showPlanChange": show_plan_change,
}


def register(server: PlanGateServer) -> None:
    """Every `plangate.*` command (the client learns them from executeCommandProvider)."""
    for name, handler in COMMANDS.items():
        server.command(name)(handler)
