"""Plan documents (`.plangate/plans/<session>.md`): code lenses whose buttons answer the
pending question or show a phase's status (they are `plangate.*` commands, so any client can
press them), and a Warning on each step that targets a path the agent may not edit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcServerError

from plangate.layout import PLAN_DOCUMENT
from plangate.lsp.diagnostics import line_range

if TYPE_CHECKING:
    from plangate.lsp.protocol import PhaseInfo
    from plangate.lsp.server import PlanGateServer

PHASE_LINE = re.compile(r"^## Phase (?P<n>\d+): ")
FILE_ITEM = re.compile(r"^- `(?P<path>[^`]+)`$")

# The buttons of a pending question, by its kind (the choices come from the engine, in order).
LENS_LABELS: dict[str, dict[str, str]] = {
    "plan": {"approve": "Approve plan", "revise": "Revise…", "reject": "Reject"},
    "phase": {"approve": "Approve & run", "revise": "Revise…", "skip": "Skip", "reject": "Reject"},
    "validation": {
        "retry": "Validation failed: Retry",
        "accept": "Accept anyway",
        "rollback": "Roll back",
        "stop": "Stop",
    },
    "loop": {"continue": "Repeated call: Continue", "stop": "Stop"},
    "limit": {"continue": "Budget spent: Continue", "stop": "Stop"},
}


def opened(ls: PlanGateServer, uri: str) -> bool:
    """A plan document gets a Warning on each step that targets a path the agent may not
    edit (and no other opener looks at it)."""
    match = PLAN_DOCUMENT.search(uri)
    if match is None:
        return False
    try:
        live = ls.sessions.get(match.group("id"))
    except JsonRpcServerError:
        return True
    policy = live.session.policy
    diagnostics = []
    for number, line in enumerate(ls.workspace.get_text_document(uri).lines):
        item = FILE_ITEM.match(line.rstrip("\n"))
        if item is None:
            continue
        decision = policy.check_edit(item.group("path"))
        if decision.action.value == "deny":
            diagnostics.append(
                types.Diagnostic(
                    range=line_range(number, line),
                    severity=types.DiagnosticSeverity.Warning,
                    source="plangate",
                    message=f"This step targets a path the agent may not edit: {decision.reason}",
                )
            )
    ls.diagnostics.set(uri, "plan", diagnostics)
    return True


def code_lens(ls: PlanGateServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    """Buttons on a plan document: approve, revise, skip, reject, roll back, or the status."""
    match = PLAN_DOCUMENT.search(params.text_document.uri)
    if match is None:
        return []
    session_id = match.group("id")
    try:
        summary = ls.sessions.summary(session_id)
    except JsonRpcServerError:
        return []
    document = ls.workspace.get_text_document(params.text_document.uri)
    pending = summary.pending or {}
    lenses: list[types.CodeLens] = []
    for number, line in enumerate(document.lines):
        phase: int | None = None
        if line.startswith("# "):
            phase = 0
        elif (found := PHASE_LINE.match(line)) is not None:
            phase = int(found.group("n"))
        if phase is None:
            continue
        buttons: list[tuple[str, str, list[Any]]] = []
        if pending.get("phase") == phase and pending.get("kind") in LENS_LABELS:
            labels = LENS_LABELS["plan" if phase == 0 else pending["kind"]]
            for decision in pending["choices"]:
                if decision in labels:
                    button = (labels[decision], "plangate.approvePhase")
                    buttons.append((*button, [session_id, phase, decision, ""]))
        elif phase == 0:
            buttons.append((f"PlanGate: {summary.status}", "plangate.status", [session_id]))
        else:
            info = next((p for p in summary.phases if p.index == phase), None)
            status = info.status if info else "pending"
            label = _status_label(info) if info else status
            buttons.append((label, "plangate.status", [session_id]))
            if status in ("done", "failed"):
                buttons.append(("Roll back", "plangate.rollbackPhase", [session_id, phase]))
        lenses += [
            types.CodeLens(
                range=line_range(number, line),
                command=types.Command(title=t, command=c, arguments=a),
            )
            for t, c, a in buttons
        ]
    return lenses


def _status_label(info: PhaseInfo) -> str:
    """A phase's status for its lens: "done · 12 tests passed", "failed · 1 of 5 tests failed"."""
    if info.tests_passed is None or info.status not in ("done", "failed"):
        return info.status  # rolled back or skipped: the counts were of code now undone
    total = info.tests_passed + (info.tests_failed or 0)
    if info.tests_failed:
        return f"{info.status} · {info.tests_failed} of {total} tests failed"
    return f"{info.status} · {total} test{'s' if total != 1 else ''} passed"


def register(server: PlanGateServer) -> None:
    """Code lenses, and the opener for plan documents."""
    server.on_open(opened)
    server.feature(types.TEXT_DOCUMENT_CODE_LENS)(code_lens)
