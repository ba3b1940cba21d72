"""The plan gate: what a tool call may do in the session's current state.

One decision for every caller (the model's tool calls and the editor's `executeTool`): until a
phase the user approved is running, nothing changes files, and bash runs only what the
permission engine allows without asking and marks read-only. Deny and ask are the permission
engine's, applied when the tool runs; this gate sits on top of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plangate.mcp.tool import McpCall
from plangate.permissions import Action, Policy
from plangate.tools import Tool
from plangate.workflow import prompts
from plangate.workflow.state import Status

OPEN = frozenset({Status.RUNNING, Status.DOCUMENTING})  # a phase the user approved is running


def refusal(
    status: Status | None, tool: Tool[Any], raw: Mapping[str, Any], policy: Policy
) -> str | None:
    """Why `tool` may not run with input `raw` while the session is in `status` (None: no
    session), or None when it may."""
    if status in OPEN:
        return None
    # Before the plan is approved, the way forward is to propose it; later, to approve a phase.
    before_plan = status is Status.ANALYSING
    if tool.permission == "edit":
        return prompts.refused_edit(tool.name, before_plan)
    if tool.name == "bash":
        decision = policy.check_bash(str(raw.get("command", "")))
        if decision.action is not Action.ALLOW or not decision.read_only:
            return prompts.refused_command(decision.action.value, decision.reason, before_plan)
    if isinstance(tool, McpCall):
        # Only a tool that declares it only reads, and that no rule holds back.
        decision = tool.decision(policy, dict(raw))
        if decision.action is not Action.ALLOW or not decision.read_only:
            return prompts.refused_command(decision.action.value, decision.reason, before_plan)
    return None
