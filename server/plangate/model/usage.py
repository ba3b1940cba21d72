"""Token usage and its cost in USD, per turn, phase and session."""

from __future__ import annotations

from pydantic import BaseModel

from plangate.model.catalog import ModelInfo


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

    @property
    def cache_creation_5m_input_tokens(self) -> int:
        """The part of cache_creation_input_tokens written with the 5-minute TTL."""
        return max(self.cache_creation_input_tokens - self.cache_creation_1h_input_tokens, 0)

    def cost(self, model: ModelInfo) -> float:
        """USD at the model's prices, taking this usage as one request.

        Cache writes pay the 1-hour rate for the 1-hour part and the 5-minute rate for the rest.
        A model with a `long_context` band charges every token of the request at that band once
        the prompt exceeds its threshold, so price a sum of several turns with
        `UsageLedger.cost`, which prices each turn on its own.
        """
        prices = model.prices(self.prompt_tokens)
        return (
            self.input_tokens * prices.input
            + self.output_tokens * prices.output
            + self.cache_creation_5m_input_tokens * prices.cache_write_5m
            + (self.cache_creation_input_tokens - self.cache_creation_5m_input_tokens)
            * prices.cache_write_1h
            + self.cache_read_input_tokens * prices.cache_read
        ) / 1_000_000

    def cost_without_cache(self, model: ModelInfo) -> float:
        """What the same request would cost with no prompt caching at all.

        The prompt has the same size either way, so it pays the same price band.
        """
        prices = model.prices(self.prompt_tokens)
        return (self.prompt_tokens * prices.input + self.output_tokens * prices.output) / 1_000_000


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

    def cost(self, model: ModelInfo) -> float:
        """USD for the session so far: each turn is one request, priced in its own band."""
        return sum(turn.cost(model) for turn in self.turns)

    def cost_without_cache(self, model: ModelInfo) -> float:
        """What the session's turns would have cost with no prompt caching, turn by turn."""
        return sum(turn.cost_without_cache(model) for turn in self.turns)
