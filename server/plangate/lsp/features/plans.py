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

SHOW_CHANGE = "Show the change to the plan"
# The buttons of a pending question, by its kind (the choices come from the engine, in order).
LENS_LABELS: dict[str, dict[str, str]] = {
    "plan": {"approve": "Approve plan", "revise": "Revise…", "reject": "Reject"},
    "phase": {"approve": "Approve & run", "revise": "Revise…", "skip": "Skip", "reject": "Reject"},
    "amendment": {"approve": "Amend the plan: approve", "reject": "Reject the amendment"},
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


# A button: its title, the `plangate.*` command it runs and the command's arguments.
Button = tuple[str, str, list[Any]]


def _buttons(ls: PlanGateServer, uri: str) -> list[tuple[int, str, Button]]:
    """The plan document's buttons, with the line (number and text) each belongs on: the
    pending question's on its phase's heading, Resume on the title of a paused session, the
    status and Roll back on each phase."""
    match = PLAN_DOCUMENT.search(uri)
    if match is None:
        return []
    session_id = match.group("id")
    try:
        summary = ls.sessions.summary(session_id)
    except JsonRpcServerError:
        return []
    document = ls.workspace.get_text_document(uri)
    pending = summary.pending or {}
    found: list[tuple[int, str, Button]] = []
    for number, line in enumerate(document.lines):
        phase: int | None = None
        if line.startswith("# "):
            phase = 0
        elif (heading := PHASE_LINE.match(line)) is not None:
            phase = int(heading.group("n"))
        if phase is None:
            continue
        buttons: list[Button] = []
        if pending.get("phase") == phase and pending.get("kind") in LENS_LABELS:
            labels = LENS_LABELS["plan" if phase == 0 else pending["kind"]]
            info = next((p for p in summary.phases if p.index == phase), None)
            if pending["kind"] == "phase" and info and info.status in ("rolled back", "failed"):
                labels = {**labels, "approve": "Run again"}
            for decision in pending["choices"]:
                if decision in labels:
                    button = (labels[decision], "plangate.approvePhase")
                    arguments = [session_id, phase, decision, "", pending["kind"]]
                    buttons.append((*button, arguments))
            if pending.get("diff"):
                buttons.append((SHOW_CHANGE, "plangate.showPlanChange", [session_id]))
        elif phase == 0:
            status = f"PlanGate: {summary.status}"
            if summary.status == "paused":
                status += f" ({summary.reason})" if summary.reason else ""
                buttons.append(("Resume", "plangate.resume", [session_id]))
            buttons.append((status, "plangate.status", [session_id]))
        else:
            info = next((p for p in summary.phases if p.index == phase), None)
            status = info.status if info else "pending"
            label = _status_label(info) if info else status
            buttons.append((label, "plangate.status", [session_id]))
            if status in ("done", "failed"):
                buttons.append(("Roll back", "plangate.rollbackPhase", [session_id, phase]))
        found += [(number, line, button) for button in buttons]
    return found


def code_lens(ls: PlanGateServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    """Buttons on a plan document: approve, revise, skip, reject, roll back, resume, or the
    status."""
    return [
        types.CodeLens(
            range=line_range(number, line),
            command=types.Command(title=title, command=command, arguments=arguments),
        )
        for number, line, (title, command, arguments) in _buttons(ls, params.text_document.uri)
    ]


def code_action(ls: PlanGateServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The same buttons as code actions, for editors without lenses: what the session waits
    for (the pending question, Resume) wherever the cursor is, a phase's own (Roll back) on
    its heading. Status labels are not actions."""
    actions = []
    for number, _, (title, command, arguments) in _buttons(ls, params.text_document.uri):
        if command == "plangate.status":
            continue
        anywhere = command != "plangate.rollbackPhase"
        if anywhere or params.range.start.line <= number <= params.range.end.line:
            actions.append(
                types.CodeAction(
                    title=f"PlanGate: {title}",
                    kind=types.CodeActionKind.QuickFix,
                    command=types.Command(title=title, command=command, arguments=arguments),
                )
            )
    return actions


def _status_label(info: PhaseInfo) -> str:
    """A phase's status for its lens: "done · 12 tests passed", "failed · 1 of 5 tests failed"."""
    if info.tests_passed is None or info.status not in ("done", "failed"):
        return info.status  # rolled back or skipped: the counts were of code now undone
    total = info.tests_passed + (info.tests_failed or 0)
    if info.tests_failed:
        return f"{info.status} · {info.tests_failed} of {total} tests failed"
    return f"{info.status} · {total} test{'s' if total != 1 else ''} passed"


def register(server: PlanGateServer) -> None:
    """Code lenses and code actions, and the opener for plan documents."""
    server.on_open(opened)
    server.feature(types.TEXT_DOCUMENT_CODE_LENS)(code_lens)
    server.on_code_action(code_action)
