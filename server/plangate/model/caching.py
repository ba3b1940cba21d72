"""Prompt-cache breakpoints: on the tools, the system prompt and the two newest user turns.

The prefix is cached in the order tools -> system -> messages. Marking the last tool and the
system prompt keeps them cached across the session; marking the newest message writes this
turn's prefix, and marking the user message before it reads the previous turn's prefix back.
Four breakpoints, the API's limit. Tools and system are written once a session with the 1-hour
TTL, so they outlive every wait on the user; the conversation's TTL is the caller's choice
(the API requires 1-hour breakpoints to come before 5-minute ones, which this order keeps).
"""

from __future__ import annotations

import copy
from typing import Any, Literal

MAX_BREAKPOINTS = 4
LONG: dict[str, str] = {"type": "ephemeral", "ttl": "1h"}


def _mark_last_block(message: dict[str, Any], mark: dict[str, str]) -> None:
    content = message["content"]
    if isinstance(content, str):
        message["content"] = [{"type": "text", "text": content, "cache_control": mark}]
    elif content:
        content[-1] = {**content[-1], "cache_control": mark}


def with_breakpoints(
    system: str,
    tools: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    ttl: Literal["5m", "1h"] = "5m",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Copies of system (as blocks), tools and messages with cache breakpoints placed."""
    system_blocks: list[dict[str, Any]] = (
        [{"type": "text", "text": system, "cache_control": LONG}] if system else []
    )
    marked_tools = [dict(tool) for tool in tools]
    if marked_tools:
        marked_tools[-1]["cache_control"] = LONG
    marked = copy.deepcopy(messages)
    budget = MAX_BREAKPOINTS - bool(system_blocks) - bool(marked_tools)
    targets: list[int] = []
    if marked:
        targets.append(len(marked) - 1)
    previous_user = next(
        (i for i in range(len(marked) - 2, -1, -1) if marked[i]["role"] == "user"), None
    )
    if previous_user is not None:
        targets.append(previous_user)
    mark = {"type": "ephemeral", "ttl": ttl}
    for index in targets[:budget]:
        _mark_last_block(marked[index], mark)
    return system_blocks, marked_tools, marked
