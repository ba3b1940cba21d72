"""Agent files are parsed off the event loop: a hostile one typed in quickly holds nothing
up, and the diagnostics shown are those of the last version typed."""

from __future__ import annotations

import asyncio

from plangate.layout import DEFAULT_AGENT
from tests.lsp.conftest import Harness
from tests.unit.test_frontmatter_limits import BOMB

FINE = "---\ndescription: Fine\n---\nBe fine.\n"
WARM = "---\ndescription: Warm\ntemperature: 0.2\n---\nBe warm.\n"


async def test_the_last_version_typed_wins(harness: Harness) -> None:
    path = harness.workspace / ".opencode" / "agent" / "typed.md"
    path.parent.mkdir(parents=True)
    path.write_text(BOMB)
    uri = path.as_uri()
    harness.open(uri, BOMB)
    for i in range(12):  # a bomb, a sampling warning, a bomb, ... typed faster than parsed
        harness.type(uri, BOMB if i % 2 == 0 else WARM)
    harness.type(uri, FINE)
    # Requests are answered meanwhile (listAgents reads the bomb still on disk).
    agents = await harness.request("plangate/listAgents", {})
    [typed] = [a for a in agents["agents"] if a["name"] == "typed"]
    assert any("more than 10,000 values" in p for p in typed["problems"]), typed
    assert any(a["name"] == DEFAULT_AGENT for a in agents["agents"])
    for _ in range(100):  # bounded: 10 s, until the last version's (empty) diagnostics
        if list(harness.client.diagnostics.get(uri, [None])) == []:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"last diagnostics: {harness.client.diagnostics.get(uri)}")
    await asyncio.sleep(0.5)  # an older version's parse finishing late must not replace them
    assert list(harness.client.diagnostics[uri]) == []
