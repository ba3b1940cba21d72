"""Agent files are parsed off the event loop: a hostile one typed in quickly holds nothing
up, and the diagnostics shown are those of the last version typed."""

from __future__ import annotations

import asyncio
import json

from lsprotocol import types

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


async def test_a_value_with_an_unquoted_colon_is_quoted_by_the_quick_fix(harness: Harness) -> None:
    value = "Use this agent when: the user asks. Examples: <example>hi</example>"
    text = f"---\ndescription: {value}\nmode: all\n---\nBe helpful.\n"
    path = harness.workspace / ".opencode" / "agent" / "colon.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    uri = path.as_uri()
    harness.open(uri, text)
    for _ in range(100):  # bounded: 10 s, until the parse off the event loop is published
        if harness.client.diagnostics.get(uri):
            break
        await asyncio.sleep(0.1)
    [diagnostic] = harness.client.diagnostics[uri]
    assert diagnostic.code == "unquoted-colon"
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (1, 13)
    actions = await harness.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    [action] = [a for a in actions or [] if isinstance(a, types.CodeAction)]
    assert action.title == "Quote the value of 'description'"
    assert action.kind == types.CodeActionKind.QuickFix and action.edit is not None
    assert harness.apply(types.ApplyWorkspaceEditParams(edit=action.edit)).applied
    assert harness.editor.text(uri) == text.replace(value, json.dumps(value))
    for _ in range(100):  # bounded: 10 s, until the fixed text's (empty) diagnostics
        if list(harness.client.diagnostics.get(uri, [None])) == []:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"last diagnostics: {harness.client.diagnostics.get(uri)}")
