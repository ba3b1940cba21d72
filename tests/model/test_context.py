"""Context management: long tool results cut and saved; the oldest elided near the window."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from plangate.model.context import ELIDED, fit_to_window, truncate_tool_result
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


def test_oldest_tool_results_are_elided_until_it_fits() -> None:
    request = TurnRequest("system", _conversation(10))

    async def go(server: ScriptedServer) -> tuple[int, int, TurnRequest, int]:
        provider = provider_for("claude-sonnet-4-6", api_key="offline", base_url=server.base_url)
        before = await provider.count_tokens(request)
        fitted, elided = await fit_to_window(request, provider, window=8_000, reserve=1_000)
        after = await provider.count_tokens(fitted)
        return before, after, fitted, elided

    with ScriptedServer([]) as server:
        before, after, fitted, elided = asyncio.run(go(server))
    assert before > 9_000 and after <= 8_000 * 0.9 - 1_000
    contents = [m["content"][0].get("content") for m in fitted.messages[2::2]]
    assert contents[0] == ELIDED and contents[-1] == "9" * 4_000  # oldest gone, newest kept
    assert elided == sum(1 for c in contents if c == ELIDED)
    assert request.messages[2]["content"][0]["content"] == "0" * 4_000  # the original is intact


def test_real_api_is_the_same_code_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    provider = provider_for(None)
    assert str(provider.client.base_url).startswith("https://api.anthropic.com")
    assert provider.model.id == "claude-sonnet-4-6"
