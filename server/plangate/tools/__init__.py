"""The agent's hands: read, write, edit, bash, grep, glob, list."""

from plangate.tools.base import Tool, ToolContext, ToolError, ToolResult
from plangate.tools.changes import ApplyError, ProposedChange, apply_change
from plangate.tools.registry import ALL_TOOLS, tools_for

__all__ = [
    "ALL_TOOLS",
    "ApplyError",
    "ProposedChange",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "apply_change",
    "tools_for",
]
