"""What the real Messages API rejects beyond a request's shape, for the scripted server.

Each rule answers as the API does (status, error type, message): unknown or retired models,
`max_tokens` over the model's limit, `thinking` settings the model does not take, assistant
prefill on models without it, more than four cache breakpoints (automatic caching included),
a 1-hour breakpoint after a 5-minute one, empty text blocks, a `tool_use` not answered by
`tool_result` blocks at the start of the next user message, and thinking blocks altered,
dropped in a tool loop, or sent to another model than the one that wrote them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from anthropic.types.message_count_tokens_params import MessageCountTokensParams
from anthropic.types.message_create_params import MessageCreateParamsStreaming

from plangate.model.catalog import ModelInfo, model_table
from plangate.model.wire_schema import schema_errors

MAX_BREAKPOINTS = 4
PREFILL_MESSAGE = (
    "This model does not support assistant message prefill. The conversation must end with "
    "a user message."
)


@dataclass(frozen=True)
class Rejection:
    """An error answer: HTTP status, the API's error type, its message."""

    status: int
    type: str
    message: str


def _invalid(message: str) -> Rejection:
    return Rejection(400, "invalid_request_error", message)


def cache_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Tools, then system, then message content: the order the cache prefix is built in."""
    blocks: list[dict[str, Any]] = [dict(tool) for tool in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str):
        blocks.append({"type": "text", "text": system})
    elif isinstance(system, list):
        blocks += system
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            blocks.append({"type": "text", "text": content, "role": message.get("role")})
        else:
            blocks += [{**block, "role": message.get("role")} for block in content or []]
    return blocks


class ThinkingSigner:
    """Signs the thinking blocks the scripted model writes, and checks them when they return.

    The signature covers the model id and the text, so an altered block, or one sent to a
    different model, fails as it does against the API."""

    def __init__(self) -> None:
        self._key = hashlib.sha256(b"plangate-scripted-thinking").digest()

    def sign(self, model: str, text: str) -> str:
        """The signature for `text` written by `model`."""
        mac = hmac.new(self._key, f"{model}\0{text}".encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode()

    def valid(self, model: str, block: dict[str, Any]) -> bool:
        """Whether a thinking or redacted_thinking block is unchanged and `model`'s own."""
        if block.get("type") == "redacted_thinking":
            data = str(block.get("data", ""))
            text, _, signature = data.partition(":")
            return hmac.compare_digest(self.sign(model, "redacted\0" + text), signature)
        return hmac.compare_digest(
            self.sign(model, str(block.get("thinking", ""))), str(block.get("signature", ""))
        )


def check_request(
    body: dict[str, Any],
    *,
    count_tokens_only: bool,
    signer: ThinkingSigner,
    issued_thinking: Callable[[str], list[dict[str, Any]] | None],
    today: date | None = None,
) -> Rejection | None:
    """The API's answer to a request it would reject, or None."""
    request_type = MessageCountTokensParams if count_tokens_only else MessageCreateParamsStreaming
    errors = schema_errors(body, request_type)
    if not count_tokens_only and body.get("stream") is not True:
        errors = [e for e in errors if not e.startswith("stream:")]
    if errors:
        return _invalid("; ".join(errors))
    model = _model(body, today or date.today())
    if isinstance(model, Rejection):
        return model
    for rule in (_limits, _thinking_config, _prefill, _breakpoints, _text_blocks, _tool_pairs):
        rejection = rule(body, model, count_tokens_only)
        if rejection is not None:
            return rejection
    return _thinking_blocks(body, signer, issued_thinking)


def _model(body: dict[str, Any], today: date) -> ModelInfo | Rejection:
    name = str(body.get("model", ""))
    model = model_table().get(name)
    if model is None or model.is_retired(today) or name != name.lower():
        return Rejection(404, "not_found_error", f"model: {name}")
    return model


def _limits(body: dict[str, Any], model: ModelInfo, count_only: bool) -> Rejection | None:
    if count_only:
        return None
    max_tokens = int(body["max_tokens"])
    if max_tokens > model.max_output:
        return _invalid(
            f"max_tokens: {max_tokens} > {model.max_output}, which is the maximum allowed "
            f"number of output tokens for {body['model']}"
        )
    if not body.get("messages"):
        return _invalid("messages: at least one message is required")
    return None


def _thinking_config(body: dict[str, Any], model: ModelInfo, count_only: bool) -> Rejection | None:
    thinking = body.get("thinking")
    if not thinking:
        return None
    kind = thinking["type"]
    if kind == "disabled":
        if model.thinking_required:
            return _invalid(f"thinking.type: 'disabled' is not supported for {model.id}")
        return None
    if kind == "between_tools" or kind not in model.thinking_modes:
        return _invalid(f"thinking.type: '{kind}' is not supported for {model.id}")
    if kind == "enabled":
        budget = int(thinking["budget_tokens"])
        if budget < 1024:
            return _invalid(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        if not count_only and budget >= int(body["max_tokens"]):
            return _invalid("`max_tokens` must be greater than `thinking.budget_tokens`")
    return None


def _prefill(body: dict[str, Any], model: ModelInfo, count_only: bool) -> Rejection | None:
    messages = body.get("messages") or []
    if messages and messages[-1]["role"] == "assistant" and not model.prefill:
        return _invalid(PREFILL_MESSAGE)
    return None


def _breakpoints(body: dict[str, Any], model: ModelInfo, count_only: bool) -> Rejection | None:
    marks = [b["cache_control"] for b in cache_blocks(body) if b.get("cache_control")]
    if body.get("cache_control"):
        marks.append(body["cache_control"])  # automatic caching takes a breakpoint too
    if len(marks) > MAX_BREAKPOINTS:
        return _invalid(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {len(marks)}."
        )
    seen_short = False
    for mark in marks:
        if mark.get("ttl", "5m") == "5m":
            seen_short = True
        elif seen_short:
            return _invalid(
                "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control "
                "block (tools, then system, then messages)"
            )
    return None


def _text_blocks(body: dict[str, Any], model: ModelInfo, count_only: bool) -> Rejection | None:
    messages = body.get("messages") or []
    for index, message in enumerate(messages):
        content = message["content"]
        final_assistant = index == len(messages) - 1 and message["role"] == "assistant"
        if not content and not final_assistant:
            return _invalid(
                f"messages.{index}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks:
            if block["type"] == "text" and not block["text"].strip() and not final_assistant:
                return _invalid("messages: text content blocks must contain non-whitespace text")
    return None


def _ids(message: dict[str, Any] | None, role: str, kind: str, key: str) -> set[str]:
    """The `key` of each `kind` block in `message`, if it is `role`'s."""
    if not message or message["role"] != role or not isinstance(message["content"], list):
        return set()
    return {b[key] for b in message["content"] if b["type"] == kind}


def _tool_pairs(body: dict[str, Any], model: ModelInfo, count_only: bool) -> Rejection | None:
    messages = body.get("messages") or []
    for index, message in enumerate(messages):
        content = message["content"] if isinstance(message["content"], list) else []
        if message["role"] == "user":
            results = [b["tool_use_id"] for b in content if b["type"] == "tool_result"]
            previous = messages[index - 1] if index > 0 else None
            asked = (
                {b["id"] for b in previous["content"] if b["type"] == "tool_use"}
                if previous
                and previous["role"] == "assistant"
                and isinstance(previous["content"], list)
                else set()
            )
            unexpected = [r for r in results if r not in asked]
            if unexpected:
                return _invalid(
                    f"messages.{index}.content: unexpected `tool_use_id` found in "
                    f"`tool_result` blocks: {unexpected[0]}. Each `tool_result` block must have "
                    "a corresponding `tool_use` block in the previous message."
                )
            kinds = [b["type"] for b in content]
            if ("tool_result" in kinds and kinds.index("tool_result") > 0) or (
                results and kinds[: len(results)] != ["tool_result"] * len(results)
            ):
                return _invalid(
                    f"messages.{index}.content: `tool_result` blocks must come first in the "
                    "user message, before any other content"
                )
            continue
        calls = [b["id"] for b in content if b["type"] == "tool_use"]
        if not calls or (count_only and index == len(messages) - 1):
            continue
        following = messages[index + 1] if index + 1 < len(messages) else None
        answered = _ids(following, "user", "tool_result", "tool_use_id")
        missing = [c for c in calls if c not in answered]
        if missing:
            return _invalid(
                f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
    return None


def _thinking_blocks(
    body: dict[str, Any],
    signer: ThinkingSigner,
    issued: Callable[[str], list[dict[str, Any]] | None],
) -> Rejection | None:
    messages = body.get("messages") or []
    model = str(body["model"])
    for index, message in enumerate(messages):
        if message["role"] != "assistant" or not isinstance(message["content"], list):
            continue
        for position, block in enumerate(message["content"]):
            if block["type"] in ("thinking", "redacted_thinking") and not signer.valid(
                model, block
            ):
                return _invalid(
                    f"messages.{index}.content.{position}: Invalid `signature` in `thinking` block"
                )
    # In the current tool loop, the assistant turn's thinking must come back unchanged.
    last = next(
        (i for i in range(len(messages) - 1, -1, -1) if messages[i]["role"] == "assistant"), None
    )
    if last is None or not isinstance(messages[last]["content"], list):
        return None
    content = messages[last]["content"]
    calls = [b["id"] for b in content if b["type"] == "tool_use"]
    expected = issued(calls[0]) if calls else None
    if expected:
        sent = [b for b in content if b["type"] in ("thinking", "redacted_thinking")]
        lead = content[: len(expected)]
        if sent != expected or lead != expected:
            return _invalid(
                f"messages.{last}.content.0: Expected `thinking` or `redacted_thinking`, but "
                f"found `{content[0]['type'] if content else 'nothing'}`. When `thinking` is "
                "enabled, a final `assistant` message must start with a thinking block, "
                "passed back unchanged. We recommend you include thinking blocks from "
                "previous turns."
            )
    return None
