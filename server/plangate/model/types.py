"""The provider interface the workflow uses, independent of any SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from plangate.model.usage import Usage


class Thinking(BaseModel):
    """An agent's `thinking:` setting, in the Messages API's terms (`thinking.type`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["adaptive", "enabled", "disabled"] = "adaptive"
    # Only for `enabled` (manual extended thinking): at least 1,024 and below max_tokens.
    budget_tokens: int | None = None
    # What the API returns of the thinking: a summary, or only the signature.
    display: Literal["summarized", "omitted"] | None = None


@dataclass
class TurnRequest:
    """Everything one model turn needs, in Messages API shapes."""

    system: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    # TTL of the conversation's cache breakpoints: 1h when a person may answer before the
    # next turn (an approval after a coffee break still reads the cache).
    cache_ttl: Literal["5m", "1h"] = "5m"


@dataclass(frozen=True)
class TextDelta:
    """A piece of the model's text, as it streams."""

    text: str


@dataclass(frozen=True)
class ThinkingDelta:
    """A piece of the model's (summarised) thinking, as it streams."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """A complete tool call (emitted once the turn has finished streaming, never twice)."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class RetryWait:
    """The turn failed and will be retried: discard the partial text shown so far."""

    reason: str
    delay: float
    attempt: int
    max_attempts: int

    @property
    def message(self) -> str:
        """`Anthropic overloaded; retrying in 8 s, attempt 2 of 5`."""
        return (
            f"{self.reason}; retrying in {self.delay:.0f} s, attempt {self.attempt} of "
            f"{self.max_attempts}"
        )


@dataclass(frozen=True)
class TurnDone:
    """The turn is complete: the assistant message to append, why it stopped, its usage."""

    message: dict[str, Any]
    stop_reason: str
    usage: Usage
    # The API's `stop_details` (a refusal's category and explanation), when it sends them.
    stop_details: dict[str, Any] | None = None

    @property
    def truncated(self) -> bool:
        """Cut by the output limit or the context window: a tool call in it may be cut too."""
        return self.stop_reason in TRUNCATED

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls in the message, in order."""
        return [
            ToolCall(block["id"], block["name"], block["input"])
            for block in self.message["content"]
            if block["type"] == "tool_use"
        ]

    @property
    def text(self) -> str:
        """The message's text."""
        return "".join(b["text"] for b in self.message["content"] if b["type"] == "text")


TurnEvent = TextDelta | ThinkingDelta | ToolCall | RetryWait | TurnDone
TRUNCATED = frozenset({"max_tokens", "model_context_window_exceeded"})


class ModelUnavailable(Exception):
    """Every attempt failed: the session pauses and can be resumed later, losing nothing."""


class ModelRequestError(Exception):
    """The API refused the request itself (bad request, authentication): retrying won't help."""


class PromptTooLong(ModelRequestError):
    """The prompt is longer than the model's context window: clear context, then retry."""


class Provider(Protocol):
    """What the workflow needs from a model."""

    def stream_turn(self, request: TurnRequest) -> AsyncIterator[TurnEvent]:
        """Stream one turn: text deltas, retries, then tool calls and TurnDone."""
        ...

    async def count_tokens(self, request: TurnRequest) -> int:
        """Input tokens the request would use."""
        ...
