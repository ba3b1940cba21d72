"""The table of Anthropic models (models.toml) and the resolution of an agent's `model:`.

Retired models resolve to their successor with a warning (the seed names
`anthropic/claude-sonnet-4`, retired on 2026-06-15); deprecated ones warn with their end of life;
unknown ones are errors that list what is known.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from plangate.diagnostics import Severity

PROVIDER = "anthropic"
# The model used when an agent names none (Claude Code's `inherit`, or no `model:` at all).
DEFAULT_MODEL = "claude-sonnet-4-6"


class Prices(BaseModel):
    """USD per million tokens for one price band."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float


class LongContext(Prices):
    """The band a request pays on every token once its prompt exceeds `above` tokens.

    The prompt is every input token of the request: uncached input, cache writes and cache reads.
    """

    above: int


class ModelInfo(BaseModel):
    """One model: limits, prices in USD per million tokens, API behaviour, and lifecycle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    aliases: list[str] = []
    family: str
    context_window: int
    max_output: int
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    long_context: LongContext | None = None
    # Prompts shorter than this are not cached (no error, no cache write).
    min_cache_tokens: int = 1024
    # Whether a request may end with an assistant message (prefill); not from 4.6 on.
    prefill: bool = False
    # `thinking.type` values the model accepts besides "disabled", and what it does unasked.
    thinking_modes: list[Literal["enabled", "adaptive"]] = []
    thinking_default: Literal["off", "adaptive"] = "off"
    # True when the model always thinks: `thinking: {type: disabled}` is rejected.
    thinking_required: bool = False
    # What the API returns of thinking when `display` is not sent.
    thinking_display: Literal["summarized", "omitted"] = "summarized"
    deprecated: date | None = None
    retired: date | None = None
    successor: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelInfo:
        if self.thinking_default == "adaptive" and "adaptive" not in self.thinking_modes:
            raise ValueError(f"{self.id}: thinks adaptively by default but has no adaptive mode")
        if self.thinking_required and self.thinking_default == "off":
            raise ValueError(f"{self.id}: thinking cannot be disabled, so it cannot default to off")
        if self.long_context is not None and self.long_context.above >= self.context_window:
            raise ValueError(f"{self.id}: long_context.above is not below the context window")
        return self

    def prices(self, prompt_tokens: int = 0) -> Prices:
        """The price band of one request whose prompt has `prompt_tokens` tokens."""
        if self.long_context is not None and prompt_tokens > self.long_context.above:
            return self.long_context
        return Prices(
            input=self.input,
            output=self.output,
            cache_write_5m=self.cache_write_5m,
            cache_write_1h=self.cache_write_1h,
            cache_read=self.cache_read,
        )

    def is_retired(self, today: date) -> bool:
        """True once the API rejects this model."""
        return self.retired is not None and self.retired <= today


@dataclass(frozen=True)
class ModelNote:
    """A warning or error produced while resolving a model reference."""

    severity: Severity
    code: str
    message: str


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving a `provider/model` string."""

    requested: str
    model: ModelInfo | None
    notes: list[ModelNote] = field(default_factory=list)


class ModelTable:
    """Models by id and alias, loaded from the packaged models.toml."""

    def __init__(self, models: list[ModelInfo], short_aliases: dict[str, str]) -> None:
        self.models = models
        self._by_name: dict[str, ModelInfo] = {}
        for model in models:
            for name in (model.id, *model.aliases):
                if name in self._by_name:
                    raise ValueError(f"model name {name!r} appears twice in the model table")
                self._by_name[name] = model
        for alias, target in short_aliases.items():
            if target not in self._by_name:
                raise ValueError(f"alias {alias!r} points to unknown model {target!r}")
            self._by_name.setdefault(alias, self._by_name[target])
        for model in models:
            if model.successor is not None and model.successor not in self._by_name:
                raise ValueError(f"{model.id}: successor {model.successor!r} is not in the table")

    def get(self, name: str) -> ModelInfo | None:
        """The model an id or alias names, or None."""
        return self._by_name.get(name.lower())

    def current(self, today: date) -> list[str]:
        """Ids of models not retired on `today`, in table order."""
        return [m.id for m in self.models if not m.is_retired(today)]

    def resolve(self, reference: str, today: date | None = None) -> Resolution:
        """Resolve `anthropic/<id>` (or a bare id or alias) to a usable model.

        A retired model is replaced by the first non-retired model along its successor chain,
        with a warning naming both; a deprecated one gives a warning with its end-of-life date.
        """
        today = today or date.today()
        provider, _, name = reference.rpartition("/")
        if provider and provider != PROVIDER:
            return Resolution(
                reference,
                None,
                [
                    ModelNote(
                        Severity.ERROR,
                        "model-provider",
                        f"provider '{provider}' is not supported: PlanGate runs Anthropic models "
                        f"(write 'anthropic/<model>')",
                    )
                ],
            )
        model = self.get(name)
        if model is None:
            known = ", ".join(self.current(today))
            return Resolution(
                reference,
                None,
                [
                    ModelNote(
                        Severity.ERROR,
                        "model-unknown",
                        f"unknown model '{name}'; known models: {known}",
                    )
                ],
            )
        notes: list[ModelNote] = []
        seen = {model.id}
        while model.is_retired(today) and model.successor is not None:
            successor = self._by_name[model.successor]
            notes.append(
                ModelNote(
                    Severity.WARNING,
                    "model-retired",
                    f"{model.id} was retired on {model.retired}; using its successor "
                    f"{successor.id}",
                )
            )
            if successor.id in seen:
                break
            seen.add(successor.id)
            model = successor
        if model.is_retired(today):
            notes.append(
                ModelNote(
                    Severity.ERROR,
                    "model-retired",
                    f"{model.id} was retired on {model.retired} and has no successor",
                )
            )
            return Resolution(reference, None, notes)
        if model.retired is not None or model.deprecated is not None:
            end = f"; end of life {model.retired}" if model.retired else ""
            use = f"; move to {model.successor}" if model.successor else ""
            notes.append(
                ModelNote(
                    Severity.WARNING, "model-deprecated", f"{model.id} is deprecated{end}{use}"
                )
            )
        return Resolution(reference, model, notes)


def model_for(model_id: str | None) -> ModelInfo | None:
    """The table's entry for a resolved model id, or for the default model."""
    return model_table().get(model_id or DEFAULT_MODEL)


@cache
def model_table() -> ModelTable:
    """The table shipped with the package."""
    raw = tomllib.loads(
        resources.files("plangate.model").joinpath("models.toml").read_text("utf-8")
    )
    models = [ModelInfo.model_validate(entry) for entry in raw.get("model", [])]
    return ModelTable(models, dict(raw.get("aliases", {})))
