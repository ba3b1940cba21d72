"""The scripted server's answers on the wire: a turn as a Message, and as the SSE events the API
streams for it (thinking with its signature, text, tool input in pieces, stop details)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from plangate.model.api_rules import ThinkingSigner
from plangate.model.catalog import model_table
from plangate.model.scripted_cache import count_tokens
from plangate.model.scripted_turns import ScriptedTurn
from plangate.model.types import TRUNCATED


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _thinks(body: dict[str, Any]) -> tuple[bool, str]:
    """Whether the model thinks on this request, and how its thinking is displayed."""
    model = model_table().get(str(body.get("model")))
    config = body.get("thinking") or {}
    kind = config.get("type") or (model.thinking_default if model else "off")
    display = config.get("display") or (model.thinking_display if model else "summarized")
    return kind in ("adaptive", "enabled"), display


def message_for(
    body: dict[str, Any], turn: ScriptedTurn, usage: dict[str, Any], signer: ThinkingSigner
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    model = str(body.get("model", "scripted"))
    thinks, display = _thinks(body)
    if turn.thinking and thinks:
        shown = turn.thinking if display == "summarized" else ""
        content.append(
            {"type": "thinking", "thinking": shown, "signature": signer.sign(model, shown)}
        )
    if turn.text:
        content.append({"type": "text", "text": turn.text})
    for call in turn.tool_calls:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.input})
    stop = turn.stop_reason or ("tool_use" if turn.tool_calls else "end_turn")
    if stop in TRUNCATED and content and content[-1]["type"] == "tool_use":
        content[-1] = {**content[-1], "_partial": True}  # cut in the middle of its input
    output = (
        sum(
            count_tokens(block.get("text") or block.get("input") or turn.thinking)
            for block in content
        )
        or 1
    )
    return {
        "id": f"msg_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_details": turn.stop_details,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": output},
    }


def without_marks(message: dict[str, Any]) -> dict[str, Any]:
    """The message as JSON answers carry it (a cut tool call keeps the input it had)."""
    content = [{k: v for k, v in b.items() if k != "_partial"} for b in message["content"]]
    return {**message, "content": content}


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _start(index: int, block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "content_block_start", {
        "type": "content_block_start",
        "index": index,
        "content_block": block,
    }


def _delta(index: int, delta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}


def _block_events(index: int, block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A content block streamed: its start, then its deltas (thinking ends with its signature;
    a tool call cut by the output limit sends only half its input)."""
    if block["type"] == "thinking":
        yield _start(index, {"type": "thinking", "thinking": "", "signature": ""})
        for piece in _pieces(block["thinking"], 24):
            yield _delta(index, {"type": "thinking_delta", "thinking": piece})
        yield _delta(index, {"type": "signature_delta", "signature": block["signature"]})
    elif block["type"] == "text":
        yield _start(index, {"type": "text", "text": ""})
        for piece in _pieces(block["text"], 24):
            yield _delta(index, {"type": "text_delta", "text": piece})
    else:
        yield _start(index, {k: v for k, v in {**block, "input": {}}.items() if k != "_partial"})
        arguments = json.dumps(block["input"])
        if block.get("_partial"):
            arguments = arguments[: len(arguments) // 2]
        for piece in _pieces(arguments, 40):
            yield _delta(index, {"type": "input_json_delta", "partial_json": piece})


def events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events the API sends for `message`, in order."""
    usage = message["usage"]
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_details": None,
        "usage": {**usage, "output_tokens": 1},
    }
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        yield from _block_events(index, block)
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": message["stop_reason"],
                "stop_sequence": None,
                "stop_details": message["stop_details"],
            },
            "usage": usage,
        },
    )
    yield "message_stop", {"type": "message_stop"}
