"""Actions, rules and decisions: the vocabulary of the permission engine."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from plangate.diagnostics import SourcePos, display_path


class Action(StrEnum):
    """What the engine answers. Ordered by strictness: allow < ask < deny."""

    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"

    @property
    def strictness(self) -> int:
        """0 for allow, 1 for ask, 2 for deny."""
        return _STRICTNESS[self]


_STRICTNESS = {Action.ALLOW: 0, Action.ASK: 1, Action.DENY: 2}

# The permission kinds an agent can configure. `external_directory` covers paths that resolve
# outside the workspace; `webfetch` is accepted for opencode compatibility.
PERMISSION_KINDS = ("bash", "edit", "read", "external_directory", "webfetch")


class Rule(BaseModel):
    """One `pattern: action` line of an agent's permissions, or a built-in default."""

    model_config = ConfigDict(frozen=True)

    permission: str
    pattern: str
    action: Action
    pos: SourcePos | None = None
    builtin: str | None = None
    # An MCP tool rule's pattern for the call's arguments (`"github_*": {"*secret*": deny}`):
    # it applies when a string argument matches; "*" is every call.
    argument: str = "*"

    @model_serializer(mode="wrap")
    def _without_every_argument(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Logged rules keep the shape they had before argument patterns: no `"argument": "*"`.
        data: dict[str, Any] = handler(self)
        if data.get("argument") == "*":
            data.pop("argument")
        return data

    def describe(self, base: Path | None = None) -> str:
        """`git commit` (agents/backend-developer.md:16), or the built-in default's name."""
        shown = f"`{self.pattern}`"
        if self.argument != "*":
            shown += f" with an argument like `{self.argument}`"
        if self.pos is None:
            return f"{shown} (built-in: {self.builtin or 'default'})"
        return f"{shown} ({display_path(self.pos.file, base)}:{self.pos.line})"

    def to_json(self, base: Path | None = None) -> dict[str, Any]:
        """The rule as the CLI and the protocol print it."""
        return {
            "permission": self.permission,
            "pattern": self.pattern,
            "action": self.action.value,
            "file": display_path(self.pos.file, base) if self.pos else None,
            "line": self.pos.line if self.pos else None,
            "column": self.pos.column if self.pos else None,
            "builtin": self.builtin,
            **({"argument": self.argument} if self.argument != "*" else {}),
        }


class Decision(BaseModel):
    """The engine's answer: the action, the rule that decided and one human sentence."""

    model_config = ConfigDict(frozen=True)

    action: Action
    rule: Rule | None
    reason: str
    # True when nothing in the request mutates state: the gate before plan approval uses it.
    read_only: bool = False

    def to_json(self, base: Path | None = None) -> dict[str, Any]:
        """`{"action", "rule", "reason", "read_only"}` for the CLI and the protocol."""
        return {
            "action": self.action.value,
            "rule": self.rule.to_json(base) if self.rule else None,
            "reason": self.reason,
            "read_only": self.read_only,
        }


def strictest(decisions: list[Decision]) -> Decision | None:
    """The first of the strictest decisions, or None for an empty list."""
    best: Decision | None = None
    for decision in decisions:
        if best is None or decision.action.strictness > best.action.strictness:
            best = decision
    return best
