"""Running a session from the terminal: build it, drive it, pause cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from plangate.agents import Agent
from plangate.model.factory import provider_for
from plangate.model.types import Provider
from plangate.terminal.approvals import TerminalApprovals
from plangate.terminal.printer import Printer
from plangate.terminal.style import Style
from plangate.workflow.session import Session
from plangate.workflow.state import SessionState


def provider(agent: Agent, base_url: str | None, api_key: str | None = None) -> Provider:
    """The agent's model, on the real API or (with `base_url`) the scripted server."""
    return provider_for(
        agent.model_id,
        api_key=api_key,
        base_url=base_url,
        thinking=agent.thinking,
    )


def drive(session: Session, printer: Printer, out: TextIO, resume: bool = False) -> SessionState:
    """Run (or resume) the session; Ctrl-C pauses it and says how to continue."""
    try:
        state = asyncio.run(session.resume() if resume else session.run())
    except KeyboardInterrupt:
        session.pause("interrupted at the terminal (Ctrl-C)")
        state = session.state
    printer.summary(state, session.model)
    if state.status.value == "paused":
        print(
            f"Continue with: plangate resume {state.id} --workspace {session.workspace}",
            file=out,
            flush=True,
        )
    return state


def terminal_session(
    agent: Agent,
    workspace: Path,
    out: TextIO,
    approve: frozenset[str],
    base_url: str | None,
    read: Callable[[str], str] = input,
    api_key: str | None = None,
) -> tuple[Printer, TerminalApprovals, Provider]:
    """The printer, the approvals and the provider a terminal session uses."""
    style = Style(out)
    return (
        Printer(out, style),
        TerminalApprovals(out, read=read, approve=approve, style=style),
        provider(agent, base_url, api_key),
    )
