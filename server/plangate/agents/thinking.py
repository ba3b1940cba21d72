"""An agent's `thinking:` setting: `adaptive | enabled | disabled`, or a mapping with `type`,
`budget_tokens` (`budgetTokens`) and `display`, each problem a diagnostic at its position."""

from __future__ import annotations

import difflib
from typing import Any, Literal

from plangate.agents.builder import Builder
from plangate.agents.frontmatter import KeyPath
from plangate.diagnostics import Severity
from plangate.model.catalog import model_table
from plangate.model.types import Thinking

ThinkingType = Literal["adaptive", "enabled", "disabled"]
THINKING_TYPES: tuple[ThinkingType, ...] = ("adaptive", "enabled", "disabled")
THINKING_DISPLAYS = ("summarized", "omitted")
THINKING_KEYS = ("type", "budget_tokens", "budgetTokens", "display")
MIN_THINKING_BUDGET = 1024


def parse_thinking(builder: Builder, value: Any, model_id: str | None) -> Thinking | None:
    """`thinking: adaptive | enabled | disabled`, or a mapping with `type`,
    `budget_tokens` (`budgetTokens`) and `display`. None when absent or wrong."""
    if value is None:
        return None
    if isinstance(value, str):
        kind = _thinking_type(builder, ("thinking",), value)
        return Thinking(type=kind) if kind else None
    if not isinstance(value, dict):
        hint = ""
        if isinstance(value, bool):
            hint = "; write 'disabled'" if not value else "; write 'adaptive' or 'enabled'"
        builder.report(
            ("thinking",),
            Severity.ERROR,
            "invalid-value",
            "'thinking' must be adaptive, enabled, disabled or a mapping "
            f"{{type, budget_tokens, display}}{hint}",
        )
        return None
    builder.unknown_keys(value, THINKING_KEYS, ("thinking",))
    ok = True
    budget_key = "budget_tokens" if "budget_tokens" in value else "budgetTokens"
    if "budget_tokens" in value and "budgetTokens" in value:
        builder.report(
            ("thinking", "budgetTokens"),
            Severity.WARNING,
            "duplicate-key",
            "both 'budget_tokens' and 'budgetTokens' are given: 'budget_tokens' is used",
            key=True,
        )
    budget = value.get(budget_key)
    if "type" in value:
        kind = _thinking_type(builder, ("thinking", "type"), value["type"])
        ok = kind is not None
    else:
        # `{budget_tokens: 8000}` can only mean manual extended thinking.
        kind = "enabled" if budget is not None else "adaptive"
    if budget is not None:
        path = ("thinking", budget_key)
        if isinstance(budget, bool) or not isinstance(budget, int):
            builder.report(
                path,
                Severity.ERROR,
                "invalid-value",
                f"'{budget_key}' must be a whole number of tokens, at least "
                f"{MIN_THINKING_BUDGET:,}",
            )
            ok = False
        elif budget < MIN_THINKING_BUDGET:
            builder.report(
                path,
                Severity.ERROR,
                "invalid-value",
                f"'{budget_key}' must be at least {MIN_THINKING_BUDGET:,} (the API's "
                f"minimum), not {budget:,}",
            )
            ok = False
        elif kind is not None and kind != "enabled":
            builder.report(
                path,
                Severity.ERROR,
                "invalid-value",
                f"'{budget_key}' only goes with type 'enabled'; '{kind}' thinking has no "
                "budget (remove it, or use type: enabled)",
                key=True,
            )
            ok = False
        elif (info := model_table().get(model_id or "")) and budget >= info.max_output:
            builder.report(
                path,
                Severity.ERROR,
                "invalid-value",
                f"'{budget_key}' must be below {info.id}'s output limit "
                f"({info.max_output:,} tokens), not {budget:,}",
            )
            ok = False
    display = value.get("display")
    if display is not None and display not in THINKING_DISPLAYS:
        close = difflib.get_close_matches(str(display), THINKING_DISPLAYS, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        builder.report(
            ("thinking", "display"),
            Severity.ERROR,
            "invalid-value",
            f"'display' must be summarized or omitted, not '{display}'{hint}",
        )
        ok = False
    elif display is not None and kind == "disabled":
        builder.report(
            ("thinking", "display"),
            Severity.ERROR,
            "invalid-value",
            "'display' only goes with type 'adaptive' or 'enabled': disabled thinking "
            "returns nothing to display",
            key=True,
        )
        ok = False
    if not ok or kind is None:
        return None
    return Thinking.model_validate({"type": kind, "budget_tokens": budget, "display": display})


def _thinking_type(builder: Builder, path: KeyPath, text: Any) -> ThinkingType | None:
    for kind in THINKING_TYPES:
        if isinstance(text, str) and text.strip().lower() == kind:
            return kind
    close = difflib.get_close_matches(str(text), THINKING_TYPES, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    builder.report(
        path,
        Severity.ERROR,
        "invalid-value",
        f"'{text}' is not a thinking type (adaptive, enabled or disabled){hint}",
    )
    return None
