"""Token usage and its cost in USD, per turn, phase and session."""

from __future__ import annotations

from pydantic import BaseModel

from plangate.agents.modeltable import ModelInfo


class Usage(BaseModel):
    """Tokens of one or more turns, as the Messages API counts them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    # The part of cache_creation_input_tokens written with the 1-hour TTL (usage.cache_creation).
    cache_creation_1h_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens
            + other.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cache_creation_1h_input_tokens=self.cache_creation_1h_input_tokens
            + other.cache_creation_1h_input_tokens,
        )

    @property
    def prompt_tokens(self) -> int:
        """Every input token, cached or not."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def cost(self, model: ModelInfo, cache_ttl: str = "5m") -> float:
        """USD at the model's prices (cache writes at the 5-minute or 1-hour rate)."""
        write = model.cache_write_1h if cache_ttl == "1h" else model.cache_write_5m
        return (
            self.input_tokens * model.input
            + self.output_tokens * model.output
            + self.cache_creation_input_tokens * write
            + self.cache_read_input_tokens * model.cache_read
        ) / 1_000_000

    def cost_without_cache(self, model: ModelInfo) -> float:
        """What the same tokens would cost with no prompt caching at all."""
        return (self.prompt_tokens * model.input + self.output_tokens * model.output) / 1_000_000


class UsageLedger(BaseModel):
    """Usage per turn, per phase and for the whole session."""

    turns: list[Usage] = []
    phases: dict[str, Usage] = {}

    def add(self, usage: Usage, phase: str | None = None) -> None:
        """Record one turn's usage, under `phase` when given."""
        self.turns.append(usage)
        if phase is not None:
            self.phases[phase] = self.phases.get(phase, Usage()) + usage

    @property
    def total(self) -> Usage:
        """The session's usage so far."""
        total = Usage()
        for usage in self.turns:
            total = total + usage
        return total
