"""An MCP server's tool as one of the session's tools: the model sees the server's name,
description and schema; every call goes through `mcp.rules.decide` (deny, ask, allow, with the
deciding rule) and, before the plan is approved, through the plan gate (workflow/gate.py)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from plangate.mcp.connection import Connection, McpError, McpTool
from plangate.mcp.rules import decide
from plangate.permissions import Action, Decision, Policy
from plangate.permissions.rules import Rule
from plangate.tools.base import Tool, ToolContext, ToolResult

# Descriptions are the server's; long ones are cut (they are in every request).
MAX_DESCRIPTION = 2000


class McpCall(Tool[BaseModel]):
    """One tool of one connected MCP server."""

    permission = "mcp"

    def __init__(self, tool: McpTool, connection: Connection, rules: list[Rule]) -> None:
        self.tool = tool
        self.connection = connection
        self.rules = rules
        self.name = tool.qualified  # type: ignore[misc]  # per instance: one class, many tools
        self.description = (  # type: ignore[misc]
            f"[MCP server '{tool.server}'] {tool.description}"[:MAX_DESCRIPTION]
        )

    def spec(self) -> dict[str, Any]:
        """The server's own schema (an object schema, as the Messages API requires)."""
        schema = {k: v for k, v in self.tool.input_schema.items() if k != "$schema"}
        if schema.get("type") != "object":
            schema = {"type": "object", "properties": {}}
        return {"name": self.name, "description": self.description, "input_schema": schema}

    def decision(self, policy: Policy, raw: dict[str, Any]) -> Decision:
        """What the rules say about this call."""
        return decide(policy, self.rules, self.tool, raw)

    async def run(self, raw_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Decide, ask when the rules say ask, then call the server."""
        decision = self.decision(ctx.policy, raw_input)
        shown = f"{self.name} {json.dumps(raw_input, sort_keys=True)[:300]}"
        if decision.action is Action.DENY:
            record = {"kind": "mcp", "target": shown, **decision.to_json()}
            return ToolResult(
                text=f"Denied: {decision.reason}", is_error=True, data={"denied": record}
            )
        if not await ctx.allowed(f"Run the MCP tool {shown}?", decision):
            return ToolResult(text=f"The user did not allow {self.name}.", is_error=True)
        try:
            result = await self.connection.call(self.tool.name, raw_input)
        except McpError as exc:
            return ToolResult(text=str(exc), is_error=True)
        text = result.text
        if result.images:
            kinds = ", ".join(media for media, _ in result.images)
            text += f"\n[{len(result.images)} image(s) returned ({kinds}): not shown to the model]"
        return ToolResult(text=text or "(no output)", is_error=result.is_error)
