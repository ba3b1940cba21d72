"""The scripted server's prompt cache and tokenizer, following the API's caching rules.

The prefix is tools -> system -> messages; each breakpoint caches the prefix up to its block
for its TTL (5 minutes or 1 hour), and a request reads the longest live prefix ending at one of
its breakpoints. A prefix shorter than the model's minimum cacheable length is neither written
nor read (the API says nothing: no write, no error). Writes are reported by TTL, as
`usage.cache_creation` does.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable
from typing import Any

from plangate.model.api_rules import cache_blocks
from plangate.model.catalog import model_table

TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


def count_tokens(value: Any) -> int:
    """A deterministic stand-in tokenizer: about four characters a token."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return max(1, math.ceil(len(text) / 4))


def _clean(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "cache_control"}


def prompt_tokens(body: dict[str, Any]) -> int:
    """Every input token of a request."""
    return sum(count_tokens(_clean(b)) for b in cache_blocks(body))


class PromptCache:
    """Prefix cache keyed by hashes of the prompt up to each breakpoint, with TTLs."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.entries: dict[str, float] = {}
        self.lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> dict[str, Any]:
        """Input, cache-write (by TTL) and cache-read tokens for a request; updates the cache."""
        blocks = cache_blocks(body)
        if body.get("cache_control") and blocks:  # automatic caching: the last block
            blocks[-1] = {**blocks[-1], "cache_control": body["cache_control"]}
        model = model_table().get(str(body.get("model")))
        minimum = model.min_cache_tokens if model is not None else 1024
        cumulative = [0]
        hashes: list[str] = []
        digest = hashlib.sha256(str(body.get("model")).encode())
        for block in blocks:
            clean = _clean(block)
            cumulative.append(cumulative[-1] + count_tokens(clean))
            digest.update(json.dumps(clean, sort_keys=True).encode())
            hashes.append(digest.copy().hexdigest())
        # Breakpoints whose prefix is long enough to be cached at all.
        breakpoints = [
            i
            for i, b in enumerate(blocks)
            if b.get("cache_control") and cumulative[i + 1] >= minimum
        ]
        now = self.clock()
        with self.lock:
            read_end = 0
            for i in reversed(breakpoints):
                if self.entries.get(hashes[i], 0.0) > now:
                    read_end = i + 1
                    break
            written = {"5m": 0, "1h": 0}
            start = read_end
            for i in breakpoints:
                ttl = blocks[i]["cache_control"].get("ttl", "5m")
                self.entries[hashes[i]] = max(
                    self.entries.get(hashes[i], 0.0), now + TTL_SECONDS[ttl]
                )
                if i + 1 > start:
                    written[ttl] += cumulative[i + 1] - cumulative[start]
                    start = i + 1
        cached_end = max(start, read_end)
        return {
            "input_tokens": cumulative[-1] - cumulative[cached_end],
            "cache_creation_input_tokens": written["5m"] + written["1h"],
            "cache_read_input_tokens": cumulative[read_end],
            "cache_creation": {
                "ephemeral_5m_input_tokens": written["5m"],
                "ephemeral_1h_input_tokens": written["1h"],
            },
        }
