"""The Anthropic provider, through the real SDK, against the scripted Messages API server."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from plangate.model.anthropic import AnthropicProvider, RetryPolicy
from plangate.model.catalog import model_table
from plangate.model.scripted import Fault, ScriptedServer, ScriptedTurn, ToolUse
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

MODEL = model_table().get("claude-sonnet-4-6")
assert MODEL is not None


class FastRetry(RetryPolicy):
    """Real backoff arithmetic, but the waits are recorded instead of slept."""

    def __init__(self, attempts: int = 5) -> None:
        super().__init__(max_attempts=attempts, sleep=self._record)
        self.waits: list[float] = []

    async def _record(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def provider(
    server: ScriptedServer, retry: RetryPolicy | None = None, **kwargs: Any
) -> AnthropicProvider:
    return AnthropicProvider(
        MODEL,
        api_key="offline-test-key",
        base_url=server.base_url,
        retry=retry or FastRetry(),
        **kwargs,
    )


def collect(p: AnthropicProvider, request: TurnRequest) -> list[TurnEvent]:
    async def go() -> list[TurnEvent]:
        return [event async for event in p.stream_turn(request)]

    return asyncio.run(go())


def shown_text(events: list[TurnEvent]) -> str:
    """What a front door shows: text deltas, dropping the partial text on each retry."""
    text = ""
    for event in events:
        if isinstance(event, RetryWait):
            text = ""
        elif isinstance(event, TextDelta):
            text += event.text
    return text


REQUEST = TurnRequest(
    system="You are terse. " * 50,  # below every model's minimum cacheable length
    messages=[{"role": "user", "content": "Fix the bug."}],
    tools=[
        {
            "name": "read",
            "description": "Read a file",
            "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
        }
    ],
)
LONG_SYSTEM = "You follow the project's conventions closely. " * 600  # ~6,600 tokens
LONG_TEXT = "I will read the file first, then propose a careful plan for the fix. " * 3


def test_turn_streams_text_then_tool_calls_then_done() -> None:
    script = [
        ScriptedTurn(
            text=LONG_TEXT, tool_calls=[ToolUse("read", {"file_path": "app.py"}, id="toolu_1")]
        )
    ]
    with ScriptedServer(script) as server:
        events = collect(provider(server), REQUEST)
    assert shown_text(events) == LONG_TEXT
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert calls == [ToolCall("toolu_1", "read", {"file_path": "app.py"})]
    done = events[-1]
    assert isinstance(done, TurnDone) and done.stop_reason == "tool_use"
    assert done.message["content"][1] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "read",
        "input": {"file_path": "app.py"},
    }
    body = server.message_requests[0].body
    assert not {"temperature", "top_p", "top_k"} & body.keys()  # API 2026-10-21 rejects them
    assert body["max_tokens"] == MODEL.max_output and body["model"] == "claude-sonnet-4-6"
    assert server.message_requests[0].headers["authorization"] == "<present>"


@pytest.mark.parametrize(
    "fault",
    [
        Fault("rate_limit", retry_after=7),
        Fault("overloaded"),
        Fault("server_error"),
        Fault("drop", after_events=5),
        Fault("sse_error", after_events=5),
    ],
    ids=lambda f: f.kind,
)
def test_faults_end_in_one_clean_turn(fault: Fault) -> None:
    script = [
        ScriptedTurn(
            text=LONG_TEXT,
            tool_calls=[ToolUse("read", {"file_path": "a.py"}, id="toolu_9")],
            faults=[fault, Fault(fault.kind, fault.retry_after, fault.after_events)],
        )
    ]
    retry = FastRetry()
    with ScriptedServer(script) as server:
        events = collect(provider(server, retry), REQUEST)
    waits = [e for e in events if isinstance(e, RetryWait)]
    assert [w.attempt for w in waits] == [2, 3]
    assert shown_text(events) == LONG_TEXT  # nothing duplicated, nothing lost
    assert len([e for e in events if isinstance(e, ToolCall)]) == 1  # never twice
    assert len(server.message_requests) == 3
    if fault.retry_after is not None:
        assert retry.waits == [7.0, 7.0]  # retry-after honoured
        assert waits[0].message == (
            "Anthropic rate limit reached (429); retrying in 7 s, attempt 2 of 5"
        )
    else:
        assert 0.8 <= retry.waits[0] <= 1.2 and 1.6 <= retry.waits[1] <= 2.4  # backoff + jitter


def test_slow_stream_is_just_slow() -> None:
    script = [ScriptedTurn(text="slow but fine", faults=[Fault("slow", delay=0.02)])]
    with ScriptedServer(script) as server:
        events = collect(provider(server), REQUEST)
    assert shown_text(events) == "slow but fine" and not any(
        isinstance(e, RetryWait) for e in events
    )


def test_giving_up_pauses_and_resume_loses_nothing() -> None:
    script = [ScriptedTurn(text="finally", faults=[Fault("overloaded")] * 3)]
    with ScriptedServer(script) as server:
        with pytest.raises(
            ModelUnavailable, match=r"Anthropic overloaded \(529\); gave up after 2 attempts"
        ):
            collect(provider(server, FastRetry(attempts=2)), REQUEST)
        events = collect(provider(server), REQUEST)  # the session resumes the same turn later
    assert shown_text(events) == "finally"


def test_text_cut_by_max_tokens_is_not_continued_by_prefill() -> None:
    script = [ScriptedTurn(text="The answer is", stop_reason="max_tokens"), ScriptedTurn("42")]
    with ScriptedServer(script) as server:
        events = collect(provider(server), REQUEST)
    done = events[-1]
    assert isinstance(done, TurnDone) and done.stop_reason == "max_tokens"
    assert done.text == "The answer is" and done.truncated
    assert len(server.message_requests) == 1  # the session, not the provider, decides next


@pytest.mark.parametrize("reason", ["max_tokens", "model_context_window_exceeded"])
def test_a_cut_off_tool_call_is_never_emitted(reason: str) -> None:
    cut = [
        ScriptedTurn(
            text="Writing it now.",
            tool_calls=[ToolUse("write", {"file_path": "x", "content": "y" * 400})],
            stop_reason=reason,
        )
    ]
    with ScriptedServer(cut) as server:
        events = collect(provider(server), REQUEST)
    assert not any(isinstance(e, ToolCall) for e in events)
    done = events[-1]
    assert isinstance(done, TurnDone) and done.stop_reason == reason
    assert [b["type"] for b in done.message["content"]] == ["text"]


def test_refusal_comes_with_its_stop_details() -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": "Exploit development."}
    script = [
        ScriptedTurn(text="I can't help with that.", stop_reason="refusal", stop_details=details)
    ]
    with ScriptedServer(script) as server:
        done = collect(provider(server), REQUEST)[-1]
    assert isinstance(done, TurnDone) and done.stop_reason == "refusal"
    assert done.stop_details == details


def test_x_should_retry_is_honoured_and_failures_are_labelled() -> None:
    never = [ScriptedTurn(text="x", faults=[Fault("server_error", should_retry=False)])]
    with ScriptedServer(never) as server:
        with pytest.raises(ModelRequestError, match="500"):
            collect(provider(server), REQUEST)
        assert len(server.message_requests) == 1  # the API said: do not retry
    labels = {
        "server_error": "Anthropic server error 500 (api_error)",
        "overloaded": "Anthropic overloaded (529)",
        "sse_error": "Anthropic overloaded_error during the stream",
        "drop": "connection to Anthropic dropped",
    }
    for kind, label in labels.items():
        script = [ScriptedTurn(text=LONG_TEXT, faults=[Fault(kind)])]  # type: ignore[arg-type]
        with ScriptedServer(script) as server:
            events = collect(provider(server), REQUEST)
        waits = [e for e in events if isinstance(e, RetryWait)]
        assert [w.reason for w in waits] == [label], kind


def test_bad_requests_are_not_retried() -> None:
    with ScriptedServer([]) as server:  # an exhausted script answers 400
        with pytest.raises(ModelRequestError, match="no more turns"):
            collect(provider(server), REQUEST)
        assert len(server.message_requests) == 1


def test_key_is_required_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ModelRequestError, match="ANTHROPIC_API_KEY"):
        AnthropicProvider(MODEL)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    assert repr(AnthropicProvider(MODEL)) == f"AnthropicProvider(model={MODEL.id!r})"


def test_caching_reads_the_earlier_prefix_with_at_most_four_breakpoints() -> None:
    turns = [
        ScriptedTurn(
            text=f"step {i}", tool_calls=[ToolUse("read", {"file_path": f"f{i}.py"}, id=f"t{i}")]
        )
        for i in range(4)
    ] + [ScriptedTurn(text="done")]

    async def session(p: AnthropicProvider) -> list[Usage]:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "Fix the bug."}]
        usages: list[Usage] = []
        for _ in range(5):
            request = TurnRequest(LONG_SYSTEM, messages, REQUEST.tools)
            events = [e async for e in p.stream_turn(request)]
            done = events[-1]
            assert isinstance(done, TurnDone)
            usages.append(done.usage)
            messages = [*messages, done.message]
            if done.tool_calls:
                messages.append(
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": c.id, "content": "x = 1\n" * 200}
                            for c in done.tool_calls
                        ],
                    }
                )
        return usages

    with ScriptedServer(turns) as server:
        usages = asyncio.run(session(provider(server)))
    assert not server.violations  # at most four breakpoints, 1h before 5m: the API's rules
    assert usages[0].cache_read_input_tokens == 0 and usages[0].cache_creation_input_tokens > 0
    for previous, usage in itertools.pairwise(usages):
        # Each turn reads back the whole prompt of the turn before it.
        assert usage.cache_read_input_tokens == previous.prompt_tokens
        assert usage.input_tokens == 0


def test_count_tokens() -> None:
    with ScriptedServer([]) as server:
        tokens = asyncio.run(provider(server).count_tokens(REQUEST))
    assert tokens > 100


def test_cost_accounting_by_hand() -> None:
    usage = Usage(
        input_tokens=1_000,
        output_tokens=500,
        cache_creation_input_tokens=2_000,
        cache_read_input_tokens=10_000,
    )
    # 1000*3 + 500*15 + 2000*3.75 + 10000*0.30 = 21000 micro-dollars
    assert usage.cost(MODEL) == pytest.approx(0.021)
    one_hour = usage.model_copy(update={"cache_creation_1h_input_tokens": 2_000})
    assert one_hour.cost(MODEL) == pytest.approx(0.021 + 2_000 * (6.0 - 3.75) / 1e6)
    assert usage.cost_without_cache(MODEL) == pytest.approx((13_000 * 3 + 500 * 15) / 1e6)


def test_usage_ledger_per_turn_phase_and_session() -> None:
    from plangate.model.usage import UsageLedger

    ledger = UsageLedger()
    ledger.add(Usage(input_tokens=10, output_tokens=5))
    ledger.add(Usage(input_tokens=1, cache_read_input_tokens=100), phase="database")
    ledger.add(Usage(output_tokens=7, cache_creation_input_tokens=50), phase="database")
    assert len(ledger.turns) == 3
    assert ledger.phases["database"] == Usage(
        input_tokens=1, output_tokens=7, cache_creation_input_tokens=50, cache_read_input_tokens=100
    )
    assert ledger.total.prompt_tokens == 161 and ledger.total.output_tokens == 12
