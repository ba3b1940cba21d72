"""Keeping the conversation inside the model's context window.

Large tool results are cut before they enter the conversation (the whole text is saved where
the read tool can reach it), and when the conversation nears the window, the oldest tool
results are replaced by a note, using the API's token count to know when it fits.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

from plangate.model.types import Provider, TurnRequest

TOOL_RESULT_LIMIT = 40_000  # characters
ELIDED = "[elided to keep the conversation within the context window; run the tool again if needed]"
KEEP_RECENT = 2  # messages at the end that are never elided


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


def _tool_results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool result blocks, oldest first, except those in the newest messages."""
    blocks: list[dict[str, Any]] = []
    for message in messages[: max(0, len(messages) - KEEP_RECENT)]:
        content = message.get("content")
        if isinstance(content, list):
            blocks += [b for b in content if b.get("type") == "tool_result"]
    return [b for b in blocks if b.get("content") != ELIDED]


def _estimate(block: dict[str, Any]) -> int:
    return len(str(block.get("content", ""))) // 4


async def fit_to_window(
    request: TurnRequest, provider: Provider, window: int, reserve: int
) -> tuple[TurnRequest, int]:
    """The request with the oldest tool results elided until it fits `window - reserve`
    tokens (with a 10% margin); returns it and how many results were elided."""
    budget = int(window * 0.9) - reserve
    tokens = await provider.count_tokens(request)
    if tokens <= budget:
        return request, 0
    messages = copy.deepcopy(request.messages)
    elided = 0
    for _ in range(4):  # estimate, elide, recount; bounded
        candidates = _tool_results(messages)
        if not candidates:
            break
        excess = tokens - budget
        for block in candidates:
            excess -= _estimate(block)
            block["content"] = ELIDED
            elided += 1
            if excess <= 0:
                break
        tokens = await provider.count_tokens(TurnRequest(request.system, messages, request.tools))
        if tokens <= budget:
            break
    return TurnRequest(request.system, messages, request.tools), elided
