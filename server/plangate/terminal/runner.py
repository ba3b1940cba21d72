"""Running a session from the terminal: build it, drive it, pause cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TextIO

from plangate.terminal.approvals import TerminalApprovals
from plangate.terminal.printer import Printer
from plangate.terminal.style import Style
from plangate.workflow.session import Session
from plangate.workflow.state import SessionState


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
    out: TextIO,
    approve: frozenset[str],
    read: Callable[[str], str] = input,
    reviewed: str | None = None,
) -> tuple[Printer, TerminalApprovals]:
    """The printer and the approvals a terminal session uses (`reviewed`: the plan document
    approved in review that an unattended run works)."""
    style = Style(out)
    approvals = TerminalApprovals(out, read=read, approve=approve, style=style, reviewed=reviewed)
    return Printer(out, style), approvals
