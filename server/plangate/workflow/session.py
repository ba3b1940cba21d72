"""The session engine: analyse, plan, approve, phase by phase, validate, document.

Every rule of the seed is enforced here, in code: before the plan is approved only read-only
work runs; a phase runs only after the user approves it; deny is final; ask goes to the user;
edits are proposals the user applies; each phase is validated and checkpointed. The engine
knows nothing of LSP or terminals: it asks its `Approvals` port and reports through `on_event`.
State is the replay of the event log, so `Session.open` after a crash resumes exactly where the
user was.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from plangate.agents import Agent
from plangate.agents import instructions as project_instructions
from plangate.layout import Layout
from plangate.model.types import (
    Provider,
)
from plangate.permissions import Action
from plangate.workflow import prompts
from plangate.workflow.approvals import Approvals, Superseded, Unanswered
from plangate.workflow.events import (
    InstructionsRead,
    MessageAdded,
    PlanProposed,
    Started,
    StatusChanged,
)
from plangate.workflow.log import EventLog, LogWriteError
from plangate.workflow.pacing import take_turn
from plangate.workflow.phases import Phases
from plangate.workflow.plan import Plan, render_markdown
from plangate.workflow.servers import Servers
from plangate.workflow.state import TERMINAL, SessionState, Status
from plangate.workflow.turns import Turns


class Session(Turns, Phases, Servers):
    """One task for one agent in one workspace."""

    @classmethod
    def start(
        cls,
        agent: Agent,
        workspace: Path,
        task: str,
        provider: Provider,
        approvals: Approvals,
        plan: Plan | None = None,
        **kwargs: Any,
    ) -> Session:
        """A new session for `task`; with `plan` (a plan document from elsewhere, reviewed in a
        pull request, say), that plan is proposed at once, for the approvals to answer."""
        session_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        Layout(workspace.resolve()).ignore_in_git()
        log = EventLog(cls.log_path(workspace.resolve(), session_id))
        session = cls(agent, workspace, provider, approvals, log, **kwargs)
        model_id = session.model.id if session.model else (agent.model_id or "")
        session._emit(Started(id=session_id, agent=agent.name, task=task, model=model_id))
        found = project_instructions.load(
            session.workspace, agent.source.format, agent.instructions, session._unreadable
        )
        if found.files or found.notes:
            session._emit(
                InstructionsRead(
                    files=[str(path) for path, _ in found.files],
                    text=found.prompt(),
                    notes=found.notes,
                )
            )
        session._emit(MessageAdded(role="user", content=task))
        if plan is None:
            session._emit(StatusChanged(status=Status.ANALYSING))
            return session
        plan = plan.with_documentation()
        session._emit(MessageAdded(role="user", content=prompts.given_plan(render_markdown(plan))))
        session._emit(PlanProposed(plan=plan, version=1))
        session._emit(StatusChanged(status=Status.PLAN_PROPOSED))
        session._write_plan()
        return session

    @classmethod
    def open(
        cls,
        agent: Agent,
        workspace: Path,
        session_id: str,
        provider: Provider,
        approvals: Approvals,
        **kwargs: Any,
    ) -> Session:
        """An existing session, rebuilt from its event log."""
        path = cls.log_path(workspace.resolve(), session_id)
        if not path.exists():
            raise FileNotFoundError(f"no session {session_id} in {workspace}")
        return cls(agent, workspace, provider, approvals, EventLog(path), **kwargs)

    def _unreadable(self, path: Path) -> str | None:
        """Why the agent may not read `path` unasked (its read rules; outside the workspace),
        or None."""
        decision = self.policy.check_read(str(path))
        return None if decision.action is Action.ALLOW else decision.reason

    def cancel(self, reason: str = "cancelled by the user") -> None:
        """Stop the session for good (a finished session keeps how it ended)."""
        if self.state.status not in TERMINAL:
            self._emit(StatusChanged(status=Status.CANCELLED, reason=reason))

    def unpause(self) -> None:
        """Leave a pause for the status the session had before it (nothing runs yet)."""
        if self.state.status is Status.PAUSED:
            self._emit(
                StatusChanged(status=self.state.resume_to or Status.ANALYSING, reason="resumed")
            )

    async def resume(self) -> SessionState:
        """Continue a paused session where it stopped."""
        self.unpause()
        return await self.run()

    async def run(self) -> SessionState:
        """Drive the session until it completes, pauses, fails or is cancelled."""
        try:
            await self._connect_servers()
            return await self._loop()
        except Unanswered as exc:
            self.pause(str(exc))  # the question stays open: resume asks it again
            return self.state
        except LogWriteError as exc:
            # Nothing more can be recorded (a full disk): stop here, loudly. The log holds
            # every step until now, so the session resumes from it once there is room.
            stopped = StatusChanged(status=Status.PAUSED, reason=f"{exc.strerror or exc}")
            self.state.apply(stopped)
            self.on_event(stopped)
            return self.state
        finally:
            await self._disconnect_servers()

    async def _loop(self) -> SessionState:
        while True:
            # The last step's events on the disk first (fsync'd in a thread), then wait for this
            # step's turn: other sessions' steps and the editor's requests go in between.
            await self.log.durable()
            await take_turn()
            state = self.state
            if state.status in TERMINAL or state.status is Status.PAUSED:
                return state
            try:
                await self._step(state)
            except Superseded:
                continue  # the question no longer holds: look again at what the session waits for

    async def _step(self, state: SessionState) -> None:
        """One step of the session, by what it waits for."""
        if state.tool_calls_answered:
            # First, always: the API wants every tool_use answered by tool_result blocks at
            # the start of the very next user message, before any other text.
            self._send_results()
        elif state.status is Status.PLAN_PROPOSED:
            await self._ask_plan()
        elif state.status is Status.AWAITING_PHASE:
            await self._ask_phase()
        elif state.status is Status.VALIDATING:
            await self._validate()
        elif state.open_tool_calls:
            await self._run_tools()
        else:
            await self._model_turn()

    async def _run_tools(self) -> None:
        for call in self.state.open_tool_calls:
            if call.name == "propose_plan":
                self._propose(call)
                return
            if call.name == "complete_phase":
                self._complete(call)
                return
            await self._execute(call)
