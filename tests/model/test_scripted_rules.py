"""The scripted Messages API rejects what the real API rejects, with the API's error shape.

Each case is a request body the real API answers with an error; the scripted server must
answer the same status and error type, and name the problem. These tests expect rejections,
so they mark their servers `rejections_expected` (the suite's conformance check skips them).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse

MODEL = "claude-sonnet-4-6"
TOOL = {"name": "read", "description": "Read a file", "input_schema": {"type": "object"}}


def body(**overrides: Any) -> dict[str, Any]:
    """A valid streaming request, changed by `overrides`."""
    base: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 1024,
        "stream": True,
        "messages": [{"role": "user", "content": "Fix the bug."}],
    }
    return {**base, **overrides}


def tool_loop(thinking: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """user -> assistant (thinking?, tool_use t1) -> user (tool_result t1)."""
    return [
        {"role": "user", "content": "Fix the bug."},
        {
            "role": "assistant",
            "content": [
                *(thinking or []),
                {"type": "tool_use", "id": "t1", "name": "read", "input": {}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}]},
    ]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer([ScriptedTurn(text="ok")] * 10) as scripted:
        scripted.rejections_expected = True
        yield scripted


def post(server: ScriptedServer, payload: dict[str, Any], path: str = "/v1/messages") -> Any:
    """(status, error type, message) of a rejected request, or (200, None, None)."""
    request = urllib.request.Request(
        server.base_url + path,
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json", "x-api-key": "offline"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status, None, None
    except urllib.error.HTTPError as error:
        answer = json.loads(error.read())
        assert answer["type"] == "error"  # the API's error shape
        return error.code, answer["error"]["type"], answer["error"]["message"]


REJECTED: list[tuple[str, dict[str, Any], int, str]] = [
    ("temperature", body(temperature=0.2), 400, "temperature: Extra inputs are not permitted"),
    ("top_p", body(top_p=0.9), 400, "top_p: Extra inputs are not permitted"),
    ("top_k", body(top_k=5), 400, "top_k: Extra inputs are not permitted"),
    (
        "field unknown to a block",
        body(messages=[{"role": "user", "content": [{"type": "text", "text": "x", "bold": 1}]}]),
        400,
        "messages.0.content.0.bold: Extra inputs are not permitted",
    ),
    (
        "unknown block type",
        body(messages=[{"role": "user", "content": [{"type": "markdown", "text": "x"}]}]),
        400,
        "messages.0.content.0.type: Input tag 'markdown'",
    ),
    (
        "missing max_tokens",
        {k: v for k, v in body().items() if k != "max_tokens"},
        400,
        "max_tokens: Field required",
    ),
    (
        "prefill on a 4.6 model",
        body(messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "The"}]),
        400,
        "does not support assistant message prefill",
    ),
    (
        "five breakpoints",
        body(
            system=[
                {"type": "text", "text": f"s{i}", "cache_control": {"type": "ephemeral"}}
                for i in range(5)
            ]
        ),
        400,
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    (
        "automatic caching is the fifth breakpoint",
        body(
            cache_control={"type": "ephemeral"},
            system=[
                {"type": "text", "text": f"s{i}", "cache_control": {"type": "ephemeral"}}
                for i in range(4)
            ],
        ),
        400,
        "Found 5.",
    ),
    (
        "1h after 5m",
        body(
            system=[
                {"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "b", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            ]
        ),
        400,
        "ttl='1h'",
    ),
    (
        "tool_use without its tool_result",
        body(tools=[TOOL], messages=[*tool_loop()[:2], {"role": "user", "content": "go on"}]),
        400,
        "`tool_use` ids were found without `tool_result` blocks immediately after: t1",
    ),
    (
        "tool_result not first",
        body(
            tools=[TOOL],
            messages=[
                *tool_loop()[:2],
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "first"},
                        {"type": "tool_result", "tool_use_id": "t1", "content": "x"},
                    ],
                },
            ],
        ),
        400,
        "`tool_result` blocks must come first",
    ),
    (
        "tool_result for no tool_use",
        body(
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t9", "content": "x"}],
                }
            ]
        ),
        400,
        "unexpected `tool_use_id`",
    ),
    (
        "empty text block",
        body(messages=[{"role": "user", "content": [{"type": "text", "text": " "}]}]),
        400,
        "non-whitespace text",
    ),
    ("unknown model", body(model="claude-sonnet-9"), 404, "model: claude-sonnet-9"),
    ("retired model", body(model="claude-sonnet-4-20250514"), 404, "model: claude-sonnet-4"),
    (
        "max_tokens over the model's limit",
        body(max_tokens=10_000_000),
        400,
        "max_tokens: 10000000 >",
    ),
    (
        "budget thinking below 1,024",
        body(thinking={"type": "enabled", "budget_tokens": 100}),
        400,
        "greater than or equal to 1024",
    ),
    (
        "forged thinking signature",
        body(
            tools=[TOOL],
            messages=tool_loop([{"type": "thinking", "thinking": "hm", "signature": "Zm9v"}]),
        ),
        400,
        "Invalid `signature` in `thinking` block",
    ),
]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_rejected_as_the_api_rejects_it(
    server: ScriptedServer, payload: dict[str, Any], status: int, message: str
) -> None:
    got_status, kind, got_message = post(server, payload)
    assert got_status == status
    assert kind == ("not_found_error" if status == 404 else "invalid_request_error")
    assert message in got_message
    assert server.violations and server.violations[-1][1].message == got_message


def test_a_valid_request_is_answered(server: ScriptedServer) -> None:
    assert post(server, body(tools=[TOOL], messages=tool_loop()))[0] == 200
    assert (
        post(server, {"model": MODEL, "messages": tool_loop()[:1]}, "/v1/messages/count_tokens")[0]
        == 200
    )
    assert not server.violations


def test_what_the_sdk_sends_for_temperature_is_rejected(server: ScriptedServer) -> None:
    """A user's path: the SDK, asked through extra_body, gets the API's 400."""
    client = anthropic.Anthropic(api_key="offline", base_url=server.base_url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="temperature: Extra inputs"):
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": "Hi"}],
            extra_body={"temperature": 0.2},
        )


def thinking_turn(server: ScriptedServer) -> dict[str, Any]:
    """Have the scripted model think and call a tool; returns the assistant message."""
    server.script = [
        ScriptedTurn(thinking="Let me look.", tool_calls=[ToolUse("read", {}, id="t1")])
    ]
    server._index = 0
    client = anthropic.Anthropic(api_key="offline", base_url=server.base_url, max_retries=0)
    message = client.messages.create(
        model=MODEL,
        max_tokens=2048,
        tools=[TOOL],  # type: ignore[list-item]
        thinking={"type": "adaptive", "display": "summarized"},
        messages=[{"role": "user", "content": "Fix the bug."}],
    )
    return {
        "role": "assistant",
        "content": [b.model_dump(exclude_none=True) for b in message.content],
    }


def test_thinking_blocks_must_come_back_unchanged_in_a_tool_loop(server: ScriptedServer) -> None:
    assistant = thinking_turn(server)
    thinking = assistant["content"][0]
    assert thinking["type"] == "thinking" and thinking["thinking"] == "Let me look."
    result = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}],
    }
    server.script = [ScriptedTurn(text="ok")] * 3
    server._index = 0
    loop = [{"role": "user", "content": "Fix the bug."}, assistant, result]
    assert post(server, body(tools=[TOOL], messages=loop))[0] == 200  # unchanged: fine
    altered = {
        **assistant,
        "content": [{**thinking, "thinking": "Something else."}, assistant["content"][1]],
    }
    assert (
        "Invalid `signature`"
        in post(server, body(tools=[TOOL], messages=[loop[0], altered, result]))[2]
    )
    dropped = {**assistant, "content": assistant["content"][1:]}
    assert (
        "must start with a thinking block"
        in post(server, body(tools=[TOOL], messages=[loop[0], dropped, result]))[2]
    )
    other_model = post(server, body(model="claude-opus-4-8", tools=[TOOL], messages=loop))
    assert "Invalid `signature`" in other_model[2]  # never sent to another model


def test_omitted_thinking_still_carries_a_signature(server: ScriptedServer) -> None:
    server.script = [ScriptedTurn(thinking="secret reasoning", text="Done.")]
    server._index = 0
    client = anthropic.Anthropic(api_key="offline", base_url=server.base_url, max_retries=0)
    message = client.messages.create(
        model=MODEL,
        max_tokens=2048,
        thinking={"type": "adaptive", "display": "omitted"},
        messages=[{"role": "user", "content": "Hi"}],
    )
    block = message.content[0]
    assert block.type == "thinking" and block.thinking == "" and block.signature


def test_caching_follows_the_models_minimum_and_reports_writes_by_ttl(
    server: ScriptedServer,
) -> None:
    short = [{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}]
    long_text = "The project's conventions, at length. " * 2_000  # ~19,000 tokens
    long = [
        {"type": "text", "text": long_text, "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    ]
    client = anthropic.Anthropic(api_key="offline", base_url=server.base_url, max_retries=0)
    messages: Any = [{"role": "user", "content": "Hi"}]
    below = client.messages.create(model=MODEL, max_tokens=64, system=short, messages=messages)  # type: ignore[arg-type]
    assert below.usage.cache_creation_input_tokens == 0 and below.usage.cache_read_input_tokens == 0
    first = client.messages.create(model=MODEL, max_tokens=64, system=long, messages=messages)  # type: ignore[arg-type]
    assert first.usage.cache_creation is not None
    assert (
        first.usage.cache_creation.ephemeral_1h_input_tokens
        == first.usage.cache_creation_input_tokens
        > 4_000
    )
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == 0
    again = client.messages.create(model=MODEL, max_tokens=64, system=long, messages=messages)  # type: ignore[arg-type]
    assert again.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert not server.violations


def test_an_unexpected_rejection_reaches_the_suites_conformance_check() -> None:
    """The file every test's conformance check reads (tests/conftest.py) gets the rejection;
    this test then takes it back out, so that only its own check passes."""
    violations = Path(os.environ["PLANGATE_SCRIPTED_VIOLATIONS"])
    before = violations.stat().st_size
    with ScriptedServer([ScriptedTurn(text="ok")]) as server:
        assert post(server, body(temperature=0.2))[0] == 400
    added = violations.read_bytes()[before:].decode()
    with violations.open("r+b") as handle:
        handle.truncate(before)
    assert "temperature: Extra inputs are not permitted" in added
