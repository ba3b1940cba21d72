"""Prompt caching over a 20-turn session, through the real SDK and the scripted server.

A 6,000-token system prompt, the real tool schemas, and a tool result of 1,000-5,000 tokens
each turn. Prints, from turn 2 on, the share of input tokens read from cache, and the session's
cost next to what the same tokens would cost without caching (claude-sonnet-4-6 prices).
The claim checked: at least 90% of input tokens from cache from turn 2 on.

    .venv/bin/python bench/cache.py [--turns N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
from typing import Any

from plangate.model.factory import provider_for
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.model.types import TurnDone, TurnRequest
from plangate.model.usage import Usage
from plangate.tools import ALL_TOOLS

TARGET = 0.90
WORDS = "request handler cache query index user order payment schema migration".split()


def _text(rng: random.Random, tokens: int) -> str:
    words: list[str] = []
    while len(" ".join(words)) < tokens * 4:
        words.append(rng.choice(WORDS))
    return " ".join(words)


async def session(turns: int) -> list[Usage]:
    """Run the scripted session; returns each turn's usage."""
    rng = random.Random(11)
    script = [
        ScriptedTurn(
            text=f"Step {i}: reading more.",
            tool_calls=[ToolUse("read", {"file_path": f"src/m{i}.py"}, id=f"toolu_{i}")],
        )
        for i in range(turns - 1)
    ] + [ScriptedTurn(text="All done.")]
    system = _text(rng, 6_000)
    tools = [tool.spec() for tool in ALL_TOOLS]
    usages: list[Usage] = []
    with ScriptedServer(script) as server:
        provider = provider_for("claude-sonnet-4-6", api_key="offline", base_url=server.base_url)
        messages: list[dict[str, Any]] = [{"role": "user", "content": "Add rate limiting."}]
        for _ in range(turns):
            events = [e async for e in provider.stream_turn(TurnRequest(system, messages, tools))]
            done = events[-1]
            assert isinstance(done, TurnDone)
            usages.append(done.usage)
            messages.append(done.message)
            results = [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": _text(rng, rng.randint(1_000, 5_000)),
                }
                for call in done.tool_calls
            ]
            if results:
                messages.append({"role": "user", "content": results})
    return usages


def main() -> int:
    """Run, print the figures, exit 1 when the share misses the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    usages = asyncio.run(session(args.turns))
    provider = provider_for("claude-sonnet-4-6", api_key="offline", base_url="http://127.0.0.1:9")
    model = provider.model
    later = usages[1:]
    read = sum(u.cache_read_input_tokens for u in later)
    prompt = sum(u.prompt_tokens for u in later)
    total = Usage()
    for usage in usages:
        total = total + usage
    share = read / prompt
    print(
        f"turns: {len(usages)}; input tokens: {total.prompt_tokens:,} "
        f"(read from cache {total.cache_read_input_tokens:,}, written "
        f"{total.cache_creation_input_tokens:,}, uncached {total.input_tokens:,}); "
        f"output {total.output_tokens:,}"
    )
    print(f"share of input tokens read from cache, turns 2-{len(usages)}: {share:.1%}")
    print(
        f"session cost: ${total.cost(model):.4f} with caching, "
        f"${total.cost_without_cache(model):.4f} without "
        f"({total.cost(model) / total.cost_without_cache(model):.2f}x)"
    )
    ok = share >= TARGET
    print(f"target: >= {TARGET:.0%} from cache from turn 2 on: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
