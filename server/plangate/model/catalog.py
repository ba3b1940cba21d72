"""The table of Anthropic models (models.toml) and the resolution of an agent's `model:`.

Retired models resolve to their successor with a warning (the seed names
`anthropic/claude-sonnet-4`, retired on 2026-06-15); deprecated ones warn with their end of life;
unknown ones are errors that list what is known. Names other tools write (opencode's gateway
providers and `#variant`s, Claude Code's `best`/`opusplan`/`[1m]`) resolve with an INFO note.
"""

from __future__ import annotations

import re
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
        """Resolve a `model:` value the way the tool that wrote the agent file would.

        Accepted: `anthropic/<id>` or a bare id or alias; opencode's `#variant` suffix; a Claude
        model through a gateway provider (`github-copilot/claude-sonnet-4.6`, Bedrock and Vertex
        ids); old-style ids (`claude-4-sonnet`); Claude Code's `best`, `opusplan`, `<alias>[1m]`,
        `default` and `inherit`. Each translation is an INFO note, so a file its own tool accepts
        only gets an error when it names a model PlanGate cannot call (not a Claude model).

        A retired model is replaced by the first non-retired model along its successor chain,
        with a warning naming both; a deprecated one gives a warning with its end-of-life date.
        """
        today = today or date.today()
        base, _, variant = reference.partition("#")
        notes = [_variant_note(variant)] if variant else []
        # opencode's parseModel splits at the first '/': `openrouter/anthropic/claude-...`.
        provider, _, name = base.partition("/") if "/" in base else ("", "", base)
        if provider and provider != PROVIDER:
            return self._through_gateway(reference, base, provider, name, notes, today)
        lookup, chosen = _claude_code_choice(name)
        if lookup is None:
            # `default` / `inherit`: no model of its own, as when `model:` is absent.
            return Resolution(
                reference, None, [*notes, ModelNote(Severity.INFO, "model-alias", chosen)]
            )
        found = self._lookup(lookup)
        if found is None:
            return Resolution(reference, None, [*notes, self._unknown(name, today)])
        model, spelling = found
        if chosen:
            # `[1m]` asked for the 1M-token window: say which window the model has.
            window = f", a {model.context_window:,}-token window" if "[1m]" in chosen else ""
            notes.append(ModelNote(Severity.INFO, "model-alias", f"{chosen} ({model.id}{window})"))
        elif spelling != name.lower():
            used = spelling if spelling == model.id else f"{spelling} ({model.id})"
            notes.append(
                ModelNote(
                    Severity.INFO,
                    "model-alias",
                    f"'{name}' is not an Anthropic API id: using {used}",
                )
            )
        return self._usable(reference, model, notes, today)

    def _through_gateway(
        self,
        reference: str,
        base: str,
        provider: str,
        name: str,
        notes: list[ModelNote],
        today: date,
    ) -> Resolution:
        """A model named through another provider: a Claude model is called on Anthropic's API
        (the provider's tool would call the same model); anything else cannot run here."""
        found = self._lookup(name)
        if found is not None and "claude" in found[1]:
            model = found[0]
            via = GATEWAYS.get(provider, f"'{provider}'")
            notes.append(
                ModelNote(
                    Severity.INFO,
                    "model-gateway",
                    f"'{base}' is {display_name(model)} through {via}; PlanGate calls it on "
                    f"Anthropic's API as {model.id}",
                )
            )
            return self._usable(reference, model, notes, today)
        if "claude" in name.lower():
            # A Claude model the table does not know: the list of known ones helps most.
            return Resolution(reference, None, [*notes, self._unknown(name, today)])
        notes.append(
            ModelNote(
                Severity.ERROR,
                "model-provider",
                f"'{base}' is not supported: PlanGate runs only Claude models, on Anthropic's "
                f"API (write 'anthropic/<model>', or a Claude model through a gateway such as "
                f"'github-copilot/claude-sonnet-4.6')",
            )
        )
        return Resolution(reference, None, notes)

    def _lookup(self, name: str) -> tuple[ModelInfo, str] | None:
        """The model `name` spells, and the spelling found in the table: as written, with a
        gateway's decorations removed, then with version and family swapped."""
        for spelling in _spellings(name):
            model = self.get(spelling)
            if model is not None:
                return model, spelling
        return None

    def _unknown(self, name: str, today: date) -> ModelNote:
        known = ", ".join(self.current(today))
        return ModelNote(
            Severity.ERROR, "model-unknown", f"unknown model '{name}'; known models: {known}"
        )

    def _usable(
        self, reference: str, model: ModelInfo, notes: list[ModelNote], today: date
    ) -> Resolution:
        """Follow a retired model's successor chain; warn of a deprecated one."""
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


# Providers (opencode's provider ids) that serve Claude models under ids of their own, by the
# name notes give them. Any other provider naming a Claude id is accepted the same way.
GATEWAYS = {
    "github-copilot": "GitHub Copilot",
    "opencode": "OpenCode Zen",
    "opencode-go": "OpenCode Go",
    "openrouter": "OpenRouter",
    "amazon-bedrock": "Amazon Bedrock",
    "google-vertex-anthropic": "Google Vertex AI",
    "vercel": "Vercel AI Gateway",
}
FAMILIES = "fable|mythos|opus|sonnet|haiku"
# Bedrock: `[us.|eu.|global.…]anthropic.<id>-v1:0`; Vertex: `<id>@20250929`; OpenRouter's
# `:thinking`-style suffixes; dotted versions (`claude-sonnet-4.6`, `claude-3.7-sonnet`).
BEDROCK_ID = re.compile(r"^(?:[a-z-]+\.)?anthropic\.(?P<id>.+?)(?:-v\d+(?::\d+)?)?$")
VERTEX_DATE = re.compile(r"@(?P<date>\d{8})$")
# `claude-4-sonnet[-date]` <-> `claude-sonnet-4[-date]`: Anthropic changed the order in Claude 4.
OLD_ORDER = re.compile(
    rf"^claude-(?P<version>\d+(?:-\d)?)-(?P<family>{FAMILIES})(?P<rest>-\d{{8}})?$"
)
NEW_ORDER = re.compile(
    rf"^claude-(?P<family>{FAMILIES})-(?P<version>\d+(?:-\d)?)(?P<rest>-\d{{8}})?$"
)
EFFORTS = ("minimal", "low", "medium", "high", "xhigh", "max")
# Claude Code settings that are not one model: the alias PlanGate uses instead, and why.
CLAUDE_CODE_CHOICES = {
    "best": ("fable", "'best' is Fable where the organization has access, else the latest Opus"),
    "opusplan": (
        "opus",
        "'opusplan' is Opus in plan mode and Sonnet otherwise, and a PlanGate agent runs one model",
    ),
}


def _spellings(name: str) -> list[str]:
    """`name`, then the API id a gateway's spelling of it stands for, then that id reordered."""
    plain = name.lower().rpartition("/")[2]  # OpenRouter and others: `anthropic/claude-...`
    if bedrock := BEDROCK_ID.match(plain):
        plain = bedrock["id"]
    plain = VERTEX_DATE.sub(r"-\g<date>", plain).partition("@")[0].partition(":")[0]
    plain = re.sub(r"(\d)\.(\d)", r"\1-\2", plain)
    spellings = [name.lower(), plain]
    if old := OLD_ORDER.match(plain):
        spellings.append(f"claude-{old['family']}-{old['version']}{old['rest'] or ''}")
    elif new := NEW_ORDER.match(plain):
        spellings.append(f"claude-{new['version']}-{new['family']}{new['rest'] or ''}")
    return spellings


def _claude_code_choice(name: str) -> tuple[str | None, str]:
    """Claude Code's names for a choice rather than a model: the name to look up (None: no
    model) and the INFO note's message ("" when `name` is an ordinary name)."""
    lowered = name.lower()
    if lowered in ("default", "inherit"):
        return None, (
            f"'{name}' names no model: the agent has no model of its own and runs on the "
            f"default model ({DEFAULT_MODEL})"
        )
    if lowered in CLAUDE_CODE_CHOICES:
        alias, why = CLAUDE_CODE_CHOICES[lowered]
        return alias, f"{why}: PlanGate uses {alias}"
    if lowered.endswith("[1m]"):
        # Not an API id: Claude Code's request for the 1M-token window, the default of every
        # model since 4.6 (older ones needed a beta header that PlanGate does not send).
        alias = name[: -len("[1m]")]
        return (
            alias,
            f"'{name}' asks Claude Code for the 1M-token context window: PlanGate uses {alias}",
        )
    return name, ""


def _variant_note(variant: str) -> ModelNote:
    """opencode V2's `#variant` (a provider-specific option set) is not applied: thinking is
    set with the agent's `thinking:` key, which the model table checks."""
    what = "reasoning effort" if variant.lower() in EFFORTS else "option set"
    return ModelNote(
        Severity.INFO,
        "model-variant",
        f"opencode's variant '#{variant}' ({what}) is not applied by PlanGate: the model runs "
        f"with its default thinking; set thinking with the 'thinking:' key",
    )


def display_name(model: ModelInfo) -> str:
    """`claude-sonnet-4-6` -> `Claude Sonnet 4.6`; `claude-3-7-sonnet` -> `Claude Sonnet 3.7`."""
    parts = model.id.removeprefix("claude-").split("-")
    words = " ".join(part.title() for part in parts if not part.isdigit())
    version = ".".join(part for part in parts if part.isdigit())
    return f"Claude {words} {version}".strip()


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
