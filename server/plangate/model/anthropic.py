"""The Anthropic provider, on the official SDK (AsyncAnthropic, `messages.stream`).

PlanGate retries itself (the SDK's own retries are off) so that every wait is reported and the
two failures the SDK does not retry, an SSE `error` event and a connection dropped mid-stream,
are retried too. A retried turn is replayed cleanly: consumers drop the partial text on
`RetryWait`, and tool calls are only emitted once the turn has completed. `pause_turn` is
continued, text cut by `max_tokens` is continued, and `refusal` is passed on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import anthropic
import httpcore2
import httpx2

from plangate.agents.definition import Thinking
from plangate.agents.modeltable import ModelInfo
from plangate.model.caching import with_breakpoints
from plangate.model.types import (
    ModelRequestError,
    ModelUnavailable,
    RetryWait,
    TextDelta,
    ToolCall,
    TurnDone,
    TurnEvent,
    TurnRequest,
)
from plangate.model.usage import Usage

log = logging.getLogger(__name__)

MAX_CONTINUATIONS = 4


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter, honouring the server's retry-after."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.2
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1`."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return float(backoff * (1 + random.uniform(-self.jitter, self.jitter)))


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) * scale
            except ValueError:
                continue
    return None


def _classify(exc: BaseException) -> _Retryable | None:
    """Retryable failures become _Retryable with a human reason; others return None."""
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        error_type = ""
        if isinstance(exc.body, dict):
            error_type = str((exc.body.get("error") or {}).get("type", ""))
        if status == 200 or error_type in ("overloaded_error", "api_error"):
            reason = "Anthropic overloaded" if "overloaded" in error_type else "stream error"
            return _Retryable(reason, _retry_after(exc.response))
        if status == 429:
            return _Retryable("Anthropic rate limit reached", _retry_after(exc.response))
        if status == 529:
            return _Retryable("Anthropic overloaded", _retry_after(exc.response))
        if status >= 500 or status in (408, 409):
            return _Retryable(f"Anthropic server error {status}", _retry_after(exc.response))
        return None
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        return _Retryable("connection to Anthropic dropped")
    if isinstance(exc, _IncompleteStream):
        return _Retryable("stream ended early")
    return None


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA store takes ~50 ms, and the language
    server builds a provider per session on its event loop."""
    return httpcore2.default_ssl_context()


class _IncompleteStream(Exception):
    pass


class AnthropicProvider:
    """Streams turns from Anthropic's Messages API (or the scripted stand-in)."""

    def __init__(
        self,
        model: ModelInfo,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        thinking: Thinking | None = None,
        max_tokens: int | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 600.0,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise ModelRequestError(
                "no Anthropic API key: set ANTHROPIC_API_KEY (or let the editor hand one over)"
            )
        self.model = model
        self.client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=base_url,
            max_retries=0,
            timeout=timeout,
            http_client=anthropic.DefaultAsyncHttpxClient(verify=_ssl_context()),
        )
        self.max_tokens = max_tokens or model.max_output
        self.retry = retry or RetryPolicy()
        self.thinking = thinking

    def __repr__(self) -> str:  # never show the key
        return f"AnthropicProvider(model={self.model.id!r})"

    async def count_tokens(self, request: TurnRequest) -> int:
        """Input tokens of `request`, from the API's count_tokens endpoint."""
        system, tools, messages = with_breakpoints(request.system, request.tools, request.messages)
        result = await self._call(
            lambda: self.client.messages.count_tokens(
                model=self.model.id,
                system=cast(Any, system),
                tools=cast(Any, tools),
                messages=cast(Any, messages),
            )
        )
        return int(result.input_tokens)

    async def _call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                return await make()
            except Exception as exc:
                failure = _classify(exc)
                if failure is None:
                    raise ModelRequestError(str(exc)) from exc
                if attempt == self.retry.max_attempts:
                    raise ModelUnavailable(failure.reason) from exc
                await self.retry.sleep(self.retry.delay(attempt, failure.retry_after))
        raise AssertionError("unreachable")

    async def stream_turn(self, request: TurnRequest) -> AsyncIterator[TurnEvent]:
        """One logical turn, continuing pause_turn and text cut by max_tokens."""
        messages = list(request.messages)
        content: list[dict[str, Any]] = []
        usage = Usage()
        stop_reason = "end_turn"
        for _ in range(MAX_CONTINUATIONS + 1):
            partial: dict[str, Any] | None = None
            async for event in self._attempts(TurnRequest(request.system, messages, request.tools)):
                if isinstance(event, TurnDone):
                    partial = event.message
                    usage = usage + event.usage
                    stop_reason = event.stop_reason
                else:
                    yield event
            assert partial is not None
            content = _merge(content, partial["content"])
            if stop_reason == "pause_turn":
                messages = [*request.messages, {"role": "assistant", "content": content}]
                continue
            if stop_reason == "max_tokens" and content and content[-1]["type"] == "text":
                # Prefill with what we have: the model continues the text where it stopped.
                content[-1]["text"] = content[-1]["text"].rstrip()
                messages = [*request.messages, {"role": "assistant", "content": content}]
                continue
            if stop_reason == "max_tokens":
                content = [b for b in content if b["type"] != "tool_use"]  # cut mid-call
            break
        message = {"role": "assistant", "content": content}
        done = TurnDone(message, stop_reason, usage)
        for call in done.tool_calls:
            yield call
        yield done

    async def _attempts(self, request: TurnRequest) -> AsyncIterator[TurnEvent]:
        """Stream one API call, retrying failures; yields text deltas, RetryWait, TurnDone."""
        system, tools, messages = with_breakpoints(request.system, request.tools, request.messages)
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                async with self.client.messages.stream(
                    model=self.model.id,
                    max_tokens=self.max_tokens,
                    # Plain dicts in the API's shapes; the SDK's TypedDicts are the same.
                    system=cast(Any, system),
                    tools=cast(Any, tools),
                    messages=cast(Any, messages),
                ) as stream:
                    completed = False
                    async for event in stream:
                        if event.type == "text":
                            yield TextDelta(event.text)
                        elif event.type == "message_stop":
                            completed = True
                    if not completed:
                        raise _IncompleteStream()
                    final = await stream.get_final_message()
            except Exception as exc:
                failure = _classify(exc)
                if failure is None:
                    raise ModelRequestError(f"Anthropic refused the request: {exc}") from exc
                if attempt == self.retry.max_attempts:
                    log.warning("giving up after %d attempts: %s", attempt, failure.reason)
                    raise ModelUnavailable(
                        f"{failure.reason}; gave up after {attempt} attempts"
                    ) from exc
                delay = self.retry.delay(attempt, failure.retry_after)
                log.info("%s; retrying in %.1f s (attempt %d)", failure.reason, delay, attempt + 1)
                yield RetryWait(failure.reason, delay, attempt + 1, self.retry.max_attempts)
                await self.retry.sleep(delay)
                continue
            message = final.model_dump(mode="json", exclude_none=True)
            blocks = [_block(b) for b in message["content"]]
            usage = Usage(
                input_tokens=final.usage.input_tokens,
                output_tokens=final.usage.output_tokens,
                cache_creation_input_tokens=final.usage.cache_creation_input_tokens or 0,
                cache_read_input_tokens=final.usage.cache_read_input_tokens or 0,
            )
            yield TurnDone({"role": "assistant", "content": blocks}, final.stop_reason or "", usage)
            return


def _block(block: dict[str, Any]) -> dict[str, Any]:
    """A response content block as a request block (only the fields the API accepts back)."""
    if block["type"] == "text":
        return {"type": "text", "text": block["text"]}
    if block["type"] == "tool_use":
        return {
            "type": "tool_use",
            "id": block["id"],
            "name": block["name"],
            "input": block["input"],
        }
    return block


def _merge(content: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append a continuation: text continuing the last text block is joined to it."""
    merged = [dict(b) for b in content]
    for block in more:
        if merged and block["type"] == "text" and merged[-1]["type"] == "text":
            merged[-1]["text"] += block["text"]
        else:
            merged.append(dict(block))
    return merged


__all__ = ["AnthropicProvider", "RetryPolicy", "ToolCall"]
