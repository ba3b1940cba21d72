"""Prompt caching over a 20-turn session, through the real SDK and the scripted server.

A 6,000-token system prompt, the real tool schemas, and a tool result of 1,000-5,000 tokens
each turn. Prints, from turn 2 on, the share of input tokens read from cache, and the session's
cost next to what the same tokens would cost without caching (claude-sonnet-4-6 prices).
The claim checked: at least 90% of input tokens from cache from turn 2 on.

Then the same session with a person in it: the plan approved after 20 minutes, two phase
approvals after 12 and 7 minutes, edit reviews of 30 s to 3 min (the scripted server's clock
jumps over the waits), once with the conversation cached for 5 minutes and once for 1 hour
(PlanGate's choice when a person answers). The claim checked: the 1-hour TTL costs less.

    .venv/bin/python bench/cache.py [--turns N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
from typing import Any, Literal

from plangate.model.factory import provider_for
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.model.types import TurnDone, TurnRequest
from plangate.model.usage import Usage, UsageLedger
from plangate.tools import ALL_TOOLS

TARGET = 0.90
WORDS = "request handler cache query index user order payment schema migration".split()


def _text(rng: random.Random, tokens: int) -> str:
    words: list[str] = []
    while len(" ".join(words)) < tokens * 4:
        words.append(rng.choice(WORDS))
    return " ".join(words)


# Seconds the person takes after a turn (by turn index), on top of 20 s of model time a turn.
WAITS = {3: 20 * 60, 8: 12 * 60, 13: 7 * 60, **{i: 30 + 30 * (i % 6) for i in (5, 6, 10, 11, 15)}}


class Clock:
    """Fake time for the scripted server's cache: it moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def session(
    turns: int, ttl: Literal["5m", "1h"] = "5m", clock: Clock | None = None
) -> list[Usage]:
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
    with ScriptedServer(script, clock=clock or Clock()) as server:
        provider = provider_for("claude-sonnet-4-6", api_key="offline", base_url=server.base_url)
        messages: list[dict[str, Any]] = [{"role": "user", "content": "Add rate limiting."}]
        for turn in range(turns):
            if clock is not None:
                clock.now += 20 + WAITS.get(turn - 1, 0)
            request = TurnRequest(system, messages, tools, ttl)
            events = [e async for e in provider.stream_turn(request)]
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
    ledger = UsageLedger(turns=usages)
    print(
        f"session cost: ${ledger.cost(model):.4f} with caching, "
        f"${ledger.cost_without_cache(model):.4f} without "
        f"({ledger.cost(model) / ledger.cost_without_cache(model):.2f}x)"
    )
    ok = share >= TARGET
    print(f"target: >= {TARGET:.0%} from cache from turn 2 on: {'met' if ok else 'MISSED'}")
    costs = {}
    for ttl in ("5m", "1h"):
        ledger = UsageLedger()
        for usage in asyncio.run(session(args.turns, ttl, Clock())):
            ledger.add(usage)
        costs[ttl] = ledger.cost(model)
        total = ledger.total
        print(
            f"with waits on a person, conversation cached {ttl}: ${costs[ttl]:.4f}; "
            f"read from cache {total.cache_read_input_tokens / total.prompt_tokens:.1%}, "
            f"written {total.cache_creation_input_tokens:,} tokens"
        )
    cheaper = costs["1h"] < costs["5m"]
    print(
        f"1h / 5m cost ratio with waits: {costs['1h'] / costs['5m']:.2f}x "
        f"({'1h cheaper' if cheaper else '1h NOT cheaper'})"
    )
    return 0 if ok and cheaper else 1


if __name__ == "__main__":
    raise SystemExit(main())
