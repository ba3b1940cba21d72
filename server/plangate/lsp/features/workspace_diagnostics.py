"""Files the agent may not edit: opening one shows an Information diagnostic naming the rule
(the default agent's permissions, in the workspace folder holding the file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from plangate.layout import DEFAULT_AGENT
from plangate.lsp.diagnostics import line_range
from plangate.lsp.params import uri_path

if TYPE_CHECKING:
    from plangate.lsp.server import PlanGateServer


def opened(ls: PlanGateServer, uri: str) -> bool:
    """Any other file: an Information diagnostic when the agent may not edit it. Registered
    last, it claims every document it is given."""
    path = uri_path(uri)
    try:
        from plangate.agents import find_agent
        from plangate.permissions import Action, Policy

        folder = next((f for f in ls.sessions.folders() if path.is_relative_to(f)), None)
        if folder is None:
            return True
        agent = find_agent(DEFAULT_AGENT, folder)
        decision = Policy(agent.permission, folder).check_edit(str(path))
    except Exception as exc:
        ls.log(f"diagnostics for {uri}: {exc!r}", "warning")
        return True
    diagnostics = []
    if decision.action is Action.DENY:
        diagnostics.append(
            types.Diagnostic(
                range=line_range(0),
                severity=types.DiagnosticSeverity.Information,
                source="plangate",
                message=f"The {agent.name} agent may not edit this file: {decision.reason}",
            )
        )
    ls.diagnostics.set(uri, "policy", diagnostics)
    return True


def register(server: PlanGateServer) -> None:
    """The opener for every other file (register after the features that claim theirs)."""
    server.on_open(opened)
