"""Context management: long tool results cut and saved; the oldest elided near the window."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from plangate.model.context import (
    ELIDED,
    HIGH,
    LOW,
    Fit,
    fit_to_window,
    truncate_tool_result,
    with_elisions,
)
from plangate.model.factory import provider_for
from plangate.model.scripted import ScriptedServer
from plangate.model.types import TurnRequest


def test_long_tool_results_are_cut_and_saved(tmp_path: Path) -> None:
    text = "".join(f"line {i}\n" for i in range(20_000))
    cut = truncate_tool_result(text, tmp_path, limit=1_000)
    assert len(cut) < 1_300 and cut.startswith("line 0") and cut.rstrip().endswith("line 19999")
    [saved] = tmp_path.iterdir()
    assert saved.read_text() == text and str(saved) in cut
    assert truncate_tool_result("short", tmp_path) == "short"


def _conversation(results: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    for i in range(results):
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": f"t{i}",
                        "name": "read",
                        "input": {"file_path": f"{i}"},
                    }
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": f"t{i}", "content": f"{i}" * 4_000}
                ],
            }
        )
    return messages


def test_clearing_has_hysteresis_and_is_a_recorded_decision() -> None:
    request = TurnRequest("system", _conversation(10))
    usable = 12_000  # tokens; the conversation is about 10,300

    async def go(server: ScriptedServer) -> tuple[int, Fit, Fit, int]:
        provider = provider_for("claude-sonnet-4-6", api_key="offline", base_url=server.base_url)
        before = await provider.count_tokens(request)
        counted = len(server.requests)
        below = await fit_to_window(request, provider, usable, estimate=int(usable * HIGH))
        assert len(server.requests) == counted  # below the threshold nothing is even counted
        above = await fit_to_window(request, provider, usable, estimate=before)
        fitted = TurnRequest("system", with_elisions(request.messages, above.elided))
        return before, below, above, await provider.count_tokens(fitted)

    with ScriptedServer([]) as server:
        before, below, above, after = asyncio.run(go(server))
    assert before > usable * HIGH
    assert below.elided == [] and below.after == int(usable * HIGH)  # not counted, not cleared
    assert above.elided[0] == "t0" and "t9" not in above.elided  # oldest first, newest kept
    assert after == above.after <= usable * LOW  # cleared well below the threshold at once
    assert request.messages[2]["content"][0]["content"] == "0" * 4_000  # the original is intact
    kept = with_elisions(request.messages, above.elided)
    assert kept[2]["content"][0]["content"] == ELIDED


def test_real_api_is_the_same_code_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    provider = provider_for(None)
    assert str(provider.client.base_url).startswith("https://api.anthropic.com")
    assert provider.model.id == "claude-sonnet-4-6"
