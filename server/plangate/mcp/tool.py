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
# Images passed to the model as image blocks: the API's types, at most this many per result,
# each at most ~5 MB of base64.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_IMAGES = 5
MAX_IMAGE = 5 * 1024 * 1024


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
            # Progress the server reports streams to the user like a command's output.
            stream = ctx.on_output
            progress = (lambda text: stream("progress", text)) if stream is not None else None
            result = await self.connection.call(self.tool.name, raw_input, progress)
        except McpError as exc:
            return ToolResult(text=str(exc), is_error=True)
        images = [
            {"media_type": media, "data": data}
            for media, data in result.images
            if media in IMAGE_TYPES and len(data) <= MAX_IMAGE
        ][:MAX_IMAGES]
        text = result.text or "(no output)"
        if len(images) < len(result.images):
            text += f"\n[{len(result.images) - len(images)} image(s) left out: type or size]"
        return ToolResult(
            text=text, is_error=result.is_error, data={"images": images} if images else {}
        )
