"""The moments a user must hear about, as `window/showMessage`, for clients that do not handle
`plangate/sessionChanged` (they do not declare `experimental.plangate.sessionChanged`).

A stuck or paused session must never be invisible: the plan ready, a phase waiting, a failed
validation to decide on, a pause with its reason, the end. Each is said once, when it changes.
"""

from __future__ import annotations

from lsprotocol import types

from plangate.lsp.params import uri_path
from plangate.lsp.protocol import SessionSummary

Milestone = tuple[types.MessageType, str]


def milestone(summary: SessionSummary) -> Milestone | None:
    """What to tell the user about this state of a session, or None when nothing needs saying."""
    task = summary.task.splitlines()[0][:80] if summary.task else summary.session_id
    where = ""
    if summary.plan_uri is not None:
        try:
            where = f" (in {uri_path(summary.plan_uri)})"
        except ValueError:
            where = f" (in {summary.plan_uri})"
    pending = summary.pending or {}
    kind, title, phase = pending.get("kind"), str(pending.get("title", "")), pending.get("phase")
    info, warning = types.MessageType.Info, types.MessageType.Warning
    if kind == "plan":
        return (
            info,
            f"PlanGate: the plan for '{task}' is ready: approve, revise or reject it from the "
            f"plan document{where}.",
        )
    if kind == "phase":
        return info, f"PlanGate: phase {phase} of '{task}' waits for your approval{where}."
    if kind == "validation":
        return warning, f"PlanGate: {title} Decide from the plan document{where}."
    if kind is not None:
        return warning, f"PlanGate: {title}"
    if summary.status == "paused":
        return (
            warning,
            f"PlanGate: '{task}' paused: {summary.reason} Resume it from the plan document{where}.",
        )
    if summary.status in ("completed", "failed", "cancelled"):
        reason = f": {summary.reason}" if summary.reason else "."
        kind_of = info if summary.status == "completed" else warning
        return kind_of, f"PlanGate: '{task}' {summary.status}{reason}"
    return None
