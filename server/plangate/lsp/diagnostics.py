"""Diagnostics the server publishes: kept per document and per producer (the policy, the plan's
steps, denied attempts, agent files), since each publish replaces a document's whole set."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from plangate.lsp.positions import lsp_lines

PHASE_HEADING = re.compile(r"^## Phase (?P<n>\d+): ")
MAX_ATTEMPTS = 20  # per document: the newest ones


class DiagnosticStore:
    """The union of every producer's diagnostics, published per document."""

    def __init__(self, publish: Callable[[types.PublishDiagnosticsParams], None]) -> None:
        self.publish = publish  # textDocument/publishDiagnostics
        self._by_uri: dict[str, dict[str, list[types.Diagnostic]]] = {}

    def set(self, uri: str, producer: str, diagnostics: list[types.Diagnostic]) -> None:
        """Replace what `producer` says about `uri`, and publish."""
        self._by_uri.setdefault(uri, {})[producer] = diagnostics
        self._publish(uri)

    def add(self, uri: str, producer: str, diagnostic: types.Diagnostic) -> None:
        """Add one diagnostic (the newest MAX_ATTEMPTS are kept), and publish."""
        kept = self._by_uri.setdefault(uri, {}).setdefault(producer, [])
        kept.append(diagnostic)
        del kept[:-MAX_ATTEMPTS]
        self._publish(uri)

    def get(self, uri: str) -> list[types.Diagnostic]:
        """Everything published for `uri`."""
        return [d for found in self._by_uri.get(uri, {}).values() for d in found]

    def _publish(self, uri: str) -> None:
        self.publish(types.PublishDiagnosticsParams(uri=uri, diagnostics=self.get(uri)))


def line_range(line: int, text: str = "") -> types.Range:
    """The whole of one line."""
    return types.Range(
        start=types.Position(line=line, character=0),
        end=types.Position(line=line, character=len(text)),
    )


def attempt(record: dict[str, Any], workspace: Path, plan: Path) -> tuple[str, types.Diagnostic]:
    """Where a denied attempt is shown, and the Warning that says what was tried, when, and by
    which rule: on the file an edit aimed at, or for a command on its phase in the plan."""
    when = time.strftime("%H:%M:%S", time.localtime(record.get("at") or time.time()))
    rule = record.get("rule") or {}
    where = f" ({rule['file']}:{rule['line']})" if rule.get("file") and rule.get("line") else ""
    by = f"'{rule.get('pattern')}': {rule.get('action')}{where}" if rule else "a built-in rule"
    phase = record.get("phase") or 0
    during = f"in phase {phase}" if phase else "before the plan was approved"
    target = str(record.get("target", ""))
    if record.get("kind") == "edit":
        uri = (workspace / target).as_uri()
        message = f"{when} {during}: the agent tried to change this file; denied by {by}"
        return uri, _warning(line_range(0), message)
    line = 0
    if phase and plan.exists():
        lines = [text.rstrip("\r\n") for text in lsp_lines(plan.read_text())]
        line = next(
            (
                i
                for i, text in enumerate(lines)
                if (m := PHASE_HEADING.match(text)) and int(m.group("n")) == phase
            ),
            0,
        )
    message = f"{when} {during}: the agent tried to run `{target[:200]}`; denied by {by}"
    return plan.as_uri(), _warning(line_range(line), message)


def _warning(where: types.Range, message: str) -> types.Diagnostic:
    return types.Diagnostic(
        range=where, severity=types.DiagnosticSeverity.Warning, source="plangate", message=message
    )
