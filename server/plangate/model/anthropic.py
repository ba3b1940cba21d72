"""The Anthropic provider, on the official SDK (AsyncAnthropic, `messages.stream`).

PlanGate retries itself (the SDK's own retries are off) so that every wait is reported and the
two failures the SDK does not retry, an SSE `error` event and a connection dropped mid-stream,
are retried too. A retried turn is replayed cleanly: consumers drop the partial text on
`RetryWait`, and tool calls are only emitted once the turn has completed. Nothing is ever
continued by prefill; stop reasons and their `stop_details` are passed on to the session.
`pause_turn` does not occur: PlanGate sends no server tools. (Just over 350 lines: the retry
classification and the thinking setting belong with the one call they shape.)
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

from plangate.model.caching import with_breakpoints
from plangate.model.catalog import ModelInfo
from plangate.model.types import (
    ModelRequestError,
    ModelUnavailable,
    PromptTooLong,
    RetryWait,
    TextDelta,
    Thinking,
    ThinkingDelta,
    ToolCall,
    TurnDone,
    TurnEvent,
    TurnRequest,
)
from plangate.model.usage import Usage

log = logging.getLogger(__name__)


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


_STATUS_LABELS = {
    408: "Anthropic request timeout (408)",
    409: "Anthropic conflict (409)",
    429: "Anthropic rate limit reached (429)",
    529: "Anthropic overloaded (529)",
}


def _should_retry(response: Any) -> bool | None:
    """The API's own verdict (`x-should-retry`), which the SDK follows before the status."""
    headers = getattr(response, "headers", None) or {}
    value = str(headers.get("x-should-retry", "")).lower()
    return {"true": True, "false": False}.get(value)


def _label(status: int, error_type: str) -> str:
    """What the failure was, for the user: the status and the API's error type."""
    if status == 200:  # an `error` event in a stream that had begun
        return f"Anthropic {error_type or 'error'} during the stream"
    if status in _STATUS_LABELS:
        return _STATUS_LABELS[status]
    if status >= 500:
        return f"Anthropic server error {status}" + (f" ({error_type})" if error_type else "")
    return f"Anthropic error {status}" + (f" ({error_type})" if error_type else "")


def _classify(exc: BaseException) -> _Retryable | None:
    """Retryable failures become _Retryable with a label; others return None.

    As the SDK decides: `x-should-retry` first, then 408, 409, 429 and 5xx; and, beyond the
    SDK, an `error` event mid-stream (overloaded or api_error) and a dropped connection."""
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        error_type = ""
        if isinstance(exc.body, dict):
            error = exc.body.get("error") or exc.body
            error_type = str(error.get("type", "")) if isinstance(error, dict) else ""
        label = _label(status, error_type)
        verdict = _should_retry(exc.response)
        if verdict is None:
            verdict = (
                status in (408, 409, 429)
                or status >= 500
                or (status == 200 and error_type in ("overloaded_error", "api_error"))
            )
        return _Retryable(label, _retry_after(exc.response)) if verdict else None
    if isinstance(exc, anthropic.APITimeoutError):
        return _Retryable("Anthropic request timed out")
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        return _Retryable("connection to Anthropic dropped")
    if isinstance(exc, _IncompleteStream):
        return _Retryable("Anthropic stream ended early")
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

    def thinking_param(self) -> dict[str, Any] | None:
        """The request's `thinking`, from the agent's setting and what the model accepts.

        Unasked, a model that takes adaptive thinking thinks adaptively (the docs' advice for
        agents with tools); thinking is asked for summarised so the user can follow it. A
        setting the model does not take falls back to what it does, with a log line.
        """
        model, wanted = self.model, self.thinking
        if wanted is None:
            if "adaptive" not in model.thinking_modes:
                return None
            return {"type": "adaptive", "display": "summarized"}
        if wanted.type == "disabled":
            if model.thinking_required:
                log.warning(
                    "%s always thinks: the agent's 'thinking: disabled' is ignored", model.id
                )
                return {"type": "adaptive", "display": wanted.display or "summarized"}
            return {"type": "disabled"}
        kind = wanted.type if wanted.type in model.thinking_modes else None
        if kind is None and model.thinking_modes:
            kind = model.thinking_modes[-1]
            log.warning("%s does not take thinking '%s'; using '%s'", model.id, wanted.type, kind)
        if kind is None:
            log.warning("%s does not think; the agent's thinking setting is ignored", model.id)
            return None
        param: dict[str, Any] = {"type": kind, "display": wanted.display or "summarized"}
        if kind == "enabled":
            budget = wanted.budget_tokens or 4096
            param["budget_tokens"] = min(budget, self.max_tokens - 1)
        return param

    async def stream_turn(self, request: TurnRequest) -> AsyncIterator[TurnEvent]:
        """One turn: text and thinking deltas, retries, then tool calls and TurnDone.

        Nothing is continued by prefill (Claude 4.6 and later reject a trailing assistant
        message): a turn cut by `max_tokens` or the context window ends as it is, its cut-off
        tool calls removed so they never run; the session decides what to ask next.
        """
        done: TurnDone | None = None
        async for event in self._attempts(request):
            if isinstance(event, TurnDone):
                done = event
            else:
                yield event
        assert done is not None
        if done.truncated:
            content = [b for b in done.message["content"] if b["type"] != "tool_use"]
            done = TurnDone(
                {"role": "assistant", "content": content},
                done.stop_reason,
                done.usage,
                done.stop_details,
            )
        for call in done.tool_calls:
            yield call
        yield done

    async def _attempts(self, request: TurnRequest) -> AsyncIterator[TurnEvent]:
        """Stream one API call, retrying failures; yields deltas, RetryWait, TurnDone."""
        system, tools, messages = with_breakpoints(
            request.system, request.tools, request.messages, request.cache_ttl
        )
        thinking = self.thinking_param()
        extra: dict[str, Any] = {"thinking": thinking} if thinking else {}
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                async with self.client.messages.stream(
                    model=self.model.id,
                    max_tokens=self.max_tokens,
                    # Plain dicts in the API's shapes; the SDK's TypedDicts are the same.
                    system=cast(Any, system),
                    tools=cast(Any, tools),
                    messages=cast(Any, messages),
                    **extra,
                ) as stream:
                    completed = False
                    async for event in stream:
                        if event.type == "text":
                            yield TextDelta(event.text)
                        elif event.type == "thinking":
                            yield ThinkingDelta(event.thinking)
                        elif event.type == "message_stop":
                            completed = True
                    if not completed:
                        raise _IncompleteStream()
                    final = await stream.get_final_message()
            except Exception as exc:
                failure = _classify(exc)
                if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
                    # The user can fix this (a new key, access to the model): a pause, then
                    # a resume, not a failed session.
                    raise ModelUnavailable(
                        f"Anthropic did not accept the API key ({exc.status_code}): {exc.message}."
                        " Set a valid key, then resume."
                    ) from exc
                if failure is None:
                    if "prompt is too long" in str(exc):
                        raise PromptTooLong(f"Anthropic: {exc}") from exc
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
            yield _turn_done(final)
            return


def _turn_done(final: Any) -> TurnDone:
    """The SDK's final Message as a TurnDone, in request shapes."""
    message = final.model_dump(mode="json", exclude_none=True)
    blocks = [_block(b) for b in message["content"]]
    written = final.usage.cache_creation
    usage = Usage(
        input_tokens=final.usage.input_tokens,
        output_tokens=final.usage.output_tokens,
        cache_creation_input_tokens=final.usage.cache_creation_input_tokens or 0,
        cache_read_input_tokens=final.usage.cache_read_input_tokens or 0,
        cache_creation_1h_input_tokens=written.ephemeral_1h_input_tokens if written else 0,
    )
    return TurnDone(
        {"role": "assistant", "content": blocks},
        final.stop_reason or "",
        usage,
        message.get("stop_details"),
    )


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
    if block["type"] == "thinking":  # passed back exactly as received, signature intact
        return {"type": "thinking", "thinking": block["thinking"], "signature": block["signature"]}
    return block


__all__ = ["AnthropicProvider", "RetryPolicy", "ToolCall"]
