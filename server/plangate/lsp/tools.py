"""`plangate/executeTool`: one tool run from the editor. An adapter only: the session (or, with
no session, the gate as before any plan) decides, exactly as for the model's calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from plangate.layout import DEFAULT_AGENT
from plangate.lsp.protocol import ExecuteToolParams, ExecuteToolResult
from plangate.tools import ToolContext, tools_for
from plangate.workflow.calls import run_unattached

if TYPE_CHECKING:
    from plangate.lsp.sessions import SessionManager


async def execute(sessions: SessionManager, request: ExecuteToolParams) -> dict[str, Any]:
    """The tool's result, as the model would have seen it."""
    live = sessions.get(request.session_id) if request.session_id else None
    if live is not None:
        agent, workspace = live.session.agent, live.session.workspace
    else:
        workspace = sessions.folder(request.workspace_folder)
        agent = sessions.agent(request.agent or DEFAULT_AGENT, workspace)
    tools = {tool.name: tool for tool in tools_for(agent)}
    tool = tools.get(request.tool)
    if tool is None:
        raise JsonRpcInvalidParams(
            f"invalid params: 'tool': {request.tool!r} is not one of {', '.join(tools)}"
        )
    if live is not None:
        result = await live.session.execute_tool(request.tool, request.input)
    else:
        result = await run_unattached(tool, request.input, ToolContext.for_agent(agent, workspace))
    answer = ExecuteToolResult(text=result.text, is_error=result.is_error, data=result.data)
    return answer.model_dump(mode="json", by_alias=True)
