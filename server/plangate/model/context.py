"""Keeping the conversation inside the model's context window, without losing the cache.

Large tool results are cut before they enter the conversation (the whole text is saved where
the read tool can reach it). When the prompt nears the window, the oldest tool results are
replaced by a note. Clearing is done with hysteresis: nothing is cleared until the prompt
passes `HIGH` of the usable window, and then enough is cleared to bring it down to `LOW`, so
the cached prefix is rewritten once per large step, not on every turn near the limit. What was
cleared is a decision the caller records (by tool_use id) and applies to every later request,
so the prefix stays byte-identical between clearings and keeps being read from the cache.

Client-side, not the API's `context_management` (`clear_tool_uses_*`): that is a beta
parameter outside the GA request types the SDK sends, and PlanGate's own clearing is
deterministic, recorded in the event log and replayed after a restart.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plangate.model.types import Provider, TurnRequest

TOOL_RESULT_LIMIT = 40_000  # characters
ELIDED = "[elided to keep the conversation within the context window; run the tool again if needed]"
KEEP_RECENT = 2  # messages at the end that are never elided
HIGH = 0.75  # clear once the prompt passes this share of the usable window...
LOW = 0.45  # ...down to this share
MAX_RECOUNTS = 4


def truncate_tool_result(text: str, save_dir: Path, limit: int = TOOL_RESULT_LIMIT) -> str:
    """`text` if short enough; otherwise its head and tail and where the full text is saved."""
    if len(text) <= limit:
        return text
    save_dir.mkdir(parents=True, exist_ok=True)
    path = save_dir / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.txt"
    path.write_text(text, encoding="utf-8")
    half = limit // 2
    return (
        f"{text[:half]}\n... [{len(text) - limit:,} characters cut; the full result is in "
        f"{path}, which the read tool can open] ...\n{text[-half:]}"
    )


def estimate_tokens(value: Any) -> int:
    """A rough token count (four characters a token), for planning before an exact count."""
    text = value if isinstance(value, str) else json.dumps(value)
    return len(text) // 4 + 1


def usable_window(window: int, max_tokens: int) -> int:
    """Tokens a prompt may take: the window less room for the answer."""
    return window - min(max_tokens, window // 5)


def with_elisions(messages: list[dict[str, Any]], elided: Iterable[str]) -> list[dict[str, Any]]:
    """A copy of `messages` with the results of the `elided` tool calls replaced by a note."""
    gone = set(elided)
    if not gone:
        return messages
    out = copy.deepcopy(messages)
    for message in out:
        content = message.get("content")
        if isinstance(content, list):
            for block in content:
                if block.get("type") == "tool_result" and block.get("tool_use_id") in gone:
                    block["content"] = ELIDED
                    block.pop("is_error", None)
    return out


def _candidates(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool result blocks that may be elided, oldest first (never in the newest messages)."""
    blocks: list[dict[str, Any]] = []
    for message in messages[: max(0, len(messages) - KEEP_RECENT)]:
        content = message.get("content")
        if isinstance(content, list):
            blocks += [b for b in content if b.get("type") == "tool_result"]
    return [b for b in blocks if b.get("content") != ELIDED]


@dataclass(frozen=True)
class Fit:
    """The outcome of fitting a request: newly elided tool_use ids and the token counts."""

    elided: list[str]
    before: int
    after: int


async def fit_to_window(
    request: TurnRequest,
    provider: Provider,
    usable: int,
    estimate: int,
    *,
    force: bool = False,
) -> Fit:
    """Which further tool results to elide so `request` fits `usable` tokens.

    `estimate` is the caller's guess at the prompt's size (the last turn's prompt tokens plus
    what was added since); nothing is counted or cleared below `HIGH` unless `force` (the API
    said the context was exceeded). Returns the ids to elide; the caller records them."""
    high, low = int(usable * HIGH), int(usable * LOW)
    if not force and estimate <= high:
        return Fit([], estimate, estimate)
    tokens = await provider.count_tokens(request)
    if not force and tokens <= high:
        return Fit([], tokens, tokens)
    before = tokens
    messages = copy.deepcopy(request.messages)
    elided: list[str] = []
    for _ in range(MAX_RECOUNTS):
        candidates = _candidates(messages)
        if not candidates:
            break
        excess = tokens - low
        for block in candidates:
            excess -= estimate_tokens(block.get("content", ""))
            block["content"] = ELIDED
            block.pop("is_error", None)
            elided.append(str(block["tool_use_id"]))
            if excess <= 0:
                break
        tokens = await provider.count_tokens(
            TurnRequest(request.system, messages, request.tools, request.cache_ttl)
        )
        if tokens <= low:
            break
    return Fit(elided, before, tokens)
