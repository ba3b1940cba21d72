"""The validated agent model every agent file format is mapped to."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from plangate.diagnostics import Diagnostic, Severity
from plangate.model.types import Thinking
from plangate.permissions.rules import Rule


class Origin(StrEnum):
    """Where an agent was found, in search order (a later origin overrides an earlier one)."""

    BUNDLED = "bundled"
    OPENCODE_CONFIG = "opencode.json"
    OPENCODE = "workspace .opencode"
    CLAUDE = "workspace .claude"
    USER = "user config"
    EXPLICIT = "path"


class AgentFormat(StrEnum):
    """The file format an agent was written in."""

    OPENCODE = "opencode"
    CLAUDE = "claude"


class AgentSource(BaseModel):
    """The file an agent came from and how it was found."""

    model_config = ConfigDict(frozen=True)

    path: Path
    origin: Origin
    format: AgentFormat


class Agent(BaseModel):
    """An agent definition: settings, tools, permission rules and its prompt."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    mode: Literal["primary", "subagent", "all"] = "all"
    # As written in the file ("anthropic/claude-sonnet-4") and as resolved by the model table.
    model: str | None = None
    model_id: str | None = None
    # Extended thinking as the file asks for it; None: the model table's default.
    thinking: Thinking | None = None
    steps: int | None = None
    tools: dict[str, bool] = {}
    # Rules per permission kind, in file order.
    permission: dict[str, list[Rule]] = {}
    prompt: str = ""
    disable: bool = False
    hidden: bool = False
    color: str | None = None
    # PlanGate's own key: whether commands in the bash sandbox may use the network.
    network: bool = True
    # opencode.json's `instructions` entries (files and globs) for the system prompt.
    instructions: list[str] = []
    source: AgentSource
    diagnostics: list[Diagnostic] = []

    @property
    def errors(self) -> list[Diagnostic]:
        """Diagnostics that make this agent unusable."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    def tool_enabled(self, tool: str) -> bool:
        """Tools are on unless the `tools:` map turns them off (opencode semantics)."""
        return self.tools.get(tool, self.tools.get("*", True))
