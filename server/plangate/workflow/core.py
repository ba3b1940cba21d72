"""The core every part of a session shares: its state (the replay of its event log), `_emit`
to record an event, `_ask` to put a question to the user, and the results and messages the
model is sent. The parts (`turns`, `calls`, `checks`, `phases`) build on it; `session` joins
them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from plangate.agents import Agent
from plangate.layout import Layout
from plangate.model.catalog import ModelInfo
from plangate.model.types import (
    Provider,
)
from plangate.permissions import Policy
from plangate.tools import Tool, tools_for
from plangate.tools.ledger import FileStamp, ReadLedger, ReadRecord
from plangate.workflow.approvals import Answer, Approvals, Question
from plangate.workflow.checkpoints import Checkpoints
from plangate.workflow.events import (
    Answered,
    Asked,
    MessageAdded,
    SessionEvent,
    Shown,
    StatusChanged,
    ToolFinished,
)
from plangate.workflow.log import EventLog
from plangate.workflow.state import TERMINAL, Status, replay

EventSink = Callable[[Shown], None]


class SessionCore:
    """One task for one agent in one workspace: what every part of the engine shares."""

    def __init__(
        self,
        agent: Agent,
        workspace: Path,
        provider: Provider,
        approvals: Approvals,
        log: EventLog,
        *,
        model: ModelInfo | None = None,
        budget_usd: float | None = None,
        on_event: EventSink | None = None,
        validation_commands: list[str] | None = None,
    ) -> None:
        self.agent = agent
        self.workspace = workspace.resolve()
        self.provider = provider
        self.approvals = approvals
        self.log = log
        self.model = model
        self.budget_usd = budget_usd
        self.on_event = on_event or (lambda _event: None)
        self.validation_commands = validation_commands or []
        self.policy = Policy(agent.permission, self.workspace)
        self.tools: dict[str, Tool[Any]] = {tool.name: tool for tool in tools_for(agent)}
        self.checkpoints = Checkpoints(self.workspace)
        self.state = replay(log.read())
        self.ledger = ReadLedger()
        for path, stamp in self.state.reads.items():
            self.ledger.records[path] = ReadRecord(FileStamp.model_validate(stamp), 0.0)

    @staticmethod
    def log_path(workspace: Path, session_id: str) -> Path:
        """Where a session's events live."""
        return Layout(workspace).events(session_id)

    def _emit(self, event: SessionEvent) -> None:
        """Record `event` durably, fold it into the state, and show it."""
        self.log.append(event)
        self.state.apply(event)
        self.on_event(event)

    def _question_id(self, prefix: str) -> str:
        """The id of the open question with this prefix (asked again after a restart), or a
        new one."""
        ids = [qid for qid in self.state.questions if qid.startswith(prefix + "#")]
        if ids and ids[-1] not in self.state.answers and ids[-1] not in self.state.withdrawn:
            return ids[-1]
        return f"{prefix}#{len(ids) + 1}"

    async def _ask(self, q: Question) -> Answer:
        known = self.state.answers.get(q.id)
        if known is not None:
            return known
        if q.id not in self.state.questions:
            self._emit(Asked.model_validate(q.model_dump()))
        answer = await self.approvals.ask(self.state.questions[q.id])
        if answer.choice not in q.choices:
            raise ValueError(f"answer {answer.choice!r} is not one of {', '.join(q.choices)}")
        if answer.by is None:
            answer = answer.model_copy(update={"by": self.approvals.who})
        self._emit(Answered(id=q.id, answer=answer))
        return answer

    def _write_plan(self) -> None:
        """Write the plan document again (it changed); the plan's part of the session does."""

    def _user(self, text: str) -> None:
        self._emit(MessageAdded(role="user", content=text))

    def pause(self, reason: str) -> None:
        """Stop for now; `resume` continues exactly here."""
        if self.state.status not in TERMINAL and self.state.status is not Status.PAUSED:
            self._emit(StatusChanged(status=Status.PAUSED, reason=reason))

    def _result(self, call_id: str, text: str, *, error: bool = False, **extra: Any) -> None:
        self._emit(ToolFinished(id=call_id, text=text, is_error=error, **extra))
