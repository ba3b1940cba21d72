"""The tools an agent is offered: its `tools:` map, minus those its permissions deny outright."""

from __future__ import annotations

from typing import Any

from plangate.agents import Agent
from plangate.permissions import Action
from plangate.tools.base import Tool
from plangate.tools.bash import BashTool
from plangate.tools.edit import EditTool, WriteTool
from plangate.tools.read import ReadTool
from plangate.tools.search import GlobTool, GrepTool, ListTool

ALL_TOOLS: tuple[Tool[Any], ...] = (
    ReadTool(),
    WriteTool(),
    EditTool(),
    BashTool(),
    GrepTool(),
    GlobTool(),
    ListTool(),
)


def denied_outright(agent: Agent, permission: str) -> bool:
    """True when the agent's rules deny everything of a kind (`edit: deny`, `"*": deny`)."""
    rules = agent.permission.get(permission, [])
    catch_all = {"*", "**", "**/*"}
    denies_all = any(r.pattern in catch_all and r.action is Action.DENY for r in rules)
    return denies_all and all(r.action is Action.DENY for r in rules)


def tools_for(agent: Agent) -> list[Tool[Any]]:
    """The tools offered to the model for `agent`."""
    return [
        tool
        for tool in ALL_TOOLS
        if agent.tool_enabled(tool.name) and not denied_outright(agent, tool.permission)
    ]
