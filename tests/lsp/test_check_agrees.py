"""`plangate check` and the editor say the same about every agent file and opencode.json:
real files from the corpus, in a workspace as their users keep them, opened in the editor."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from lsprotocol import types

from plangate.agents import discover
from tests.corpus.test_agent_files import ENTRIES
from tests.lsp.conftest import Harness

SEVERITY = {
    types.DiagnosticSeverity.Error: "error",
    types.DiagnosticSeverity.Warning: "warning",
    types.DiagnosticSeverity.Information: "info",
}


def _project(workspace: Path) -> list[Path]:
    """Every fourth corpus file, and a real opencode.json with agents and rules."""
    placed = []
    for entry in ENTRIES[::4]:
        if "config" in entry.format:
            continue
        folder = ".claude/agents" if entry.format == "claude-code" else ".opencode/agents"
        target = workspace / folder / Path(entry.path).name
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.file, target)
        placed.append(target)
    [config] = [
        e
        for e in ENTRIES
        if e.local.endswith("NAGAGroup__CodeAccelerate-OpencodeConfig/opencode__opencode.json")
    ]
    shutil.copyfile(config.file, workspace / "opencode.json")
    placed.append(workspace / "opencode.json")
    return placed


async def test_check_and_the_editor_agree_on_every_diagnostic(harness: Harness) -> None:
    files = _project(harness.workspace)
    listing = discover(harness.workspace)
    checked = {
        (d.pos.file.resolve(), d.pos.line, d.pos.column, d.severity.value, d.message)
        for d in [
            *listing.config_diagnostics,
            *(d for a in [*listing.overridden, *listing.agents.values()] for d in a.diagnostics),
        ]
    }
    shown = set()
    for path in files:
        uri = path.as_uri()
        harness.open(uri, path.read_text(encoding="utf-8"))
        for _ in range(100):  # bounded: 10 s, until the parse off the event loop is published
            if uri in harness.client.diagnostics:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"no diagnostics published for {path}")
        shown |= {
            (
                path.resolve(),
                d.range.start.line + 1,
                d.range.start.character + 1,
                SEVERITY[d.severity or types.DiagnosticSeverity.Error],
                d.message,
            )
            for d in harness.client.diagnostics[uri]
        }
    ours = {c for c in checked if c[0] in {p.resolve() for p in files}}
    assert len(files) >= 25 and len(ours) >= 25, (len(files), len(ours))
    assert shown == ours, {"only in check": ours - shown, "only in the editor": shown - ours}
