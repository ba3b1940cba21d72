"""What the scripted model answers: turns, their tool calls, and faults to inject."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["rate_limit", "overloaded", "server_error", "drop", "sse_error", "slow"]


@dataclass
class Fault:
    """Something to go wrong with one attempt of a turn (the retry then succeeds)."""

    kind: FaultKind
    retry_after: float | None = None  # seconds, sent as retry-after / retry-after-ms
    after_events: int = 4  # for drop and sse_error: how many SSE events are sent first
    delay: float = 0.05  # for slow: seconds between events
    should_retry: bool | None = None  # sent as the `x-should-retry` header when set


@dataclass
class ToolUse:
    """A tool call the scripted model makes."""

    name: str
    input: dict[str, Any]
    id: str = field(default_factory=lambda: f"toolu_{uuid.uuid4().hex[:20]}")


@dataclass
class ScriptedTurn:
    """One answer of the scripted model."""

    text: str = ""
    tool_calls: list[ToolUse] = field(default_factory=list)
    stop_reason: str | None = None  # default: tool_use when there are calls, else end_turn
    faults: list[Fault] = field(default_factory=list)
    # What the model thinks first; sent only when the request (or the model) has thinking on.
    thinking: str = ""
    stop_details: dict[str, Any] | None = None  # e.g. a refusal's category and explanation


Script = Sequence[ScriptedTurn] | Callable[[dict[str, Any]], ScriptedTurn]
