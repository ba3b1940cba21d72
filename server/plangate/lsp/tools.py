"""`plangate/executeTool`: one tool run from the editor, through the same gates as the model's
calls (the plan gate, deny rules, 'ask' as a message request, edits as previews)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from plangate.lsp.protocol import ExecuteToolParams, ExecuteToolResult
from plangate.permissions import Action
from plangate.tools import ToolContext, tools_for
from plangate.tools.base import Tool, ToolResult
from plangate.tools.changes import ApplyError, ProposedChange, apply_once
from plangate.workflow.approvals import question
from plangate.workflow.state import Status

if TYPE_CHECKING:
    from plangate.lsp.server import PlanGateServer
    from plangate.lsp.sessions import Live

RUNNING = (Status.RUNNING, Status.DOCUMENTING)


async def execute(ls: PlanGateServer, request: ExecuteToolParams) -> dict[str, Any]:
    """The tool's result, as the model would have seen it."""
    live = ls.sessions.get(request.session_id) if request.session_id else None
    if live is not None:
        agent, workspace = live.session.agent, live.session.workspace
    else:
        workspace = ls.sessions.folder(request.workspace_folder)
        agent = ls.sessions.agent(request.agent or "backend-developer", workspace)
    tools = {tool.name: tool for tool in tools_for(agent)}
    tool = tools.get(request.tool)
    if tool is None:
        raise JsonRpcInvalidParams(
            f"invalid params: 'tool': {request.tool!r} is not one of {', '.join(tools)}"
        )
    running = live is not None and live.session.state.status in RUNNING
    if live is not None and running:
        result = await _in_phase(live, tool, request.input)
    else:
        ctx = ToolContext.for_agent(agent, workspace)
        result = await _outside_phase(ctx, tool, request.input)
    answer = ExecuteToolResult(text=result.text, is_error=result.is_error, data=result.data)
    return answer.model_dump(mode="json", by_alias=True)


async def _outside_phase(ctx: ToolContext, tool: Tool[Any], raw: dict[str, Any]) -> ToolResult:
    """The plan gate: files change only in an approved phase, and only read-only commands run."""
    if tool.permission == "edit":
        return ToolResult(
            text="Refused: files change only in a phase the user approved.", is_error=True
        )
    if tool.name == "bash":
        decision = ctx.policy.check_bash(str(raw.get("command", "")))
        if decision.action is not Action.ALLOW or not decision.read_only:
            return ToolResult(
                text="Refused: outside an approved phase only read-only commands run "
                f"({decision.reason}).",
                is_error=True,
            )
    return await tool.run(raw, ctx)


async def _in_phase(live: Live, tool: Tool[Any], raw: dict[str, Any]) -> ToolResult:
    """In a running phase: 'ask' goes to the user, and a change is applied only once the user
    applied its preview. The session's read ledger is shared: edit what the agent read."""
    session = live.session
    call = f"editor-{uuid.uuid4().hex[:12]}"  # never an id an earlier answer was recorded under
    ctx = ToolContext.for_agent(
        session.agent, session.workspace, ledger=session.ledger, confirm=session.confirmer(call)
    )
    result = await tool.run(raw, ctx)
    if result.is_error or tool.permission != "edit":
        return result
    change = ProposedChange.model_validate(result.data["change"])
    answer = await live.approvals.ask(
        question(
            "edit",
            f"edit:{call}#1",
            f"Apply the change to {change.path}?",
            change=change,
            phase_index=session.state.phase or None,
        )
    )
    if answer.choice != "apply":
        text = f"The user rejected the change to {change.path}. {answer.feedback}".strip()
        return ToolResult(text=text, is_error=True, data=result.data)
    try:
        apply_once(change, session.workspace, ctx.policy)
    except ApplyError as exc:
        return ToolResult(text=f"The change could not be applied: {exc}", is_error=True)
    return ToolResult(text=f"Applied the change to {change.path}.", data=result.data)
