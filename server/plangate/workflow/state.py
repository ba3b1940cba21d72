"""Session state: nothing but the replay of the event log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from plangate.model.types import ToolCall
from plangate.model.usage import Usage, UsageLedger
from plangate.workflow.approvals import Answer, Question
from plangate.workflow.checkpoints import PathChange
from plangate.workflow.contract import amended
from plangate.workflow.events import (
    AgentChanged,
    Answered,
    Asked,
    ChangeApplied,
    Checkpointed,
    CheckStarted,
    ContextManaged,
    InstructionsRead,
    Interrupted,
    McpConnected,
    MessageAdded,
    ModelTurned,
    PhaseChanged,
    PlanAmended,
    PlanProposed,
    RolledBack,
    SessionEvent,
    Started,
    StatusChanged,
    ToolFinished,
    ToolStarted,
    Validated,
    Withdrawn,
)
from plangate.workflow.log import LoggedEvent
from plangate.workflow.plan import Plan
from plangate.workflow.project import ProjectHead
from plangate.workflow.status import TERMINAL, PhaseStatus, Status


class SessionState(BaseModel):
    """Everything about a session, rebuilt from its events."""

    id: str = ""
    agent: str = ""
    task: str = ""
    # The project's instructions, as read at the start (in the system prompt).
    instructions: str = ""
    # The MCP servers the last run started, by name: transport, tools or the error.
    mcp: dict[str, dict[str, Any]] = {}
    model: str = ""
    status: Status = Status.ANALYSING
    reason: str = ""
    resume_to: Status | None = None
    plan: Plan | None = None
    plan_version: int = 0
    # The plan as the user last approved it (amendments included): a revision is shown, and
    # approved, as its difference from this.
    approved_plan: Plan | None = None
    amendments: list[PlanAmended] = []  # approved changes to the approved plan, in order
    phase: int = 0  # 1-based index of the current (or next) phase; 0 before approval
    phases: dict[int, PhaseStatus] = {}
    summaries: dict[int, str] = {}
    attempts: dict[int, int] = {}
    checkpoints: dict[int, str] = {}
    project_heads: dict[int, ProjectHead | None] = {}  # the project's git HEAD at each one
    # Per phase, what the agent changed since its checkpoint (and not rolled back), in order.
    agent_changes: dict[int, list[PathChange]] = {}
    tracked: set[str] = set()  # tool_use ids whose changes are recorded in agent_changes
    messages: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}  # tool_use id -> {"text", "is_error"}
    started: set[str] = set()  # tool_use ids whose execution began
    applied: set[str] = set()  # tool_use ids whose change is on disk
    questions: dict[str, Question] = {}
    answers: dict[str, Answer] = {}
    withdrawn: dict[str, str] = {}  # questions taken back unanswered, and why
    allowed: set[str] = set()  # "allow for this session"
    reads: dict[str, dict[str, Any]] = {}  # path -> file stamp, for the edit tool's ledger
    usage: UsageLedger = UsageLedger()
    turns: int = 0
    validations: dict[int, list[list[dict[str, Any]]]] = {}
    running_check: CheckStarted | None = None  # a check started and its validation unfinished
    # The model that wrote each assistant message (by index): its thinking goes to no other.
    producers: dict[int, str] = {}
    last_stop_reason: str = ""
    # The last turn's prompt size, for estimating the next one's without counting.
    last_prompt_tokens: int = 0
    last_prompt_chars: int = 0
    elided: set[str] = set()  # tool_use ids whose results were cleared to fit the window
    context_exceeded: int = 0  # turns lost to a full window since the last good turn
    truncations: int = 0  # turns in a row cut by the output limit

    @property
    def pending_question(self) -> Question | None:
        """A question asked and not yet answered (asked again after a restart)."""
        for qid, question in self.questions.items():
            if qid not in self.answers and qid not in self.withdrawn:
                return question
        return None

    @property
    def last_tool_calls(self) -> list[ToolCall]:
        """The tool calls of the last message, if it is the model's."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return []
        return [
            ToolCall(block["id"], block["name"], block["input"])
            for block in self.messages[-1]["content"]
            if block["type"] == "tool_use"
        ]

    @property
    def open_tool_calls(self) -> list[ToolCall]:
        """Tool calls of the last assistant message that have no result yet."""
        return [call for call in self.last_tool_calls if call.id not in self.results]

    @property
    def tool_calls_answered(self) -> bool:
        """The last assistant message called tools and every call has its result."""
        calls = self.last_tool_calls
        return bool(calls) and all(call.id in self.results for call in calls)

    @property
    def total_usage(self) -> Usage:
        """Usage of every model turn so far."""
        return self.usage.total

    def apply(self, event: SessionEvent) -> None:
        """Fold one event into the state."""
        match event:
            case Started():
                self.id, self.agent, self.task, self.model = (
                    event.id,
                    event.agent,
                    event.task,
                    event.model,
                )
            case InstructionsRead():
                self.instructions = event.text
            case McpConnected():
                self.mcp[event.name] = event.model_dump(exclude={"type"})
            case StatusChanged():
                if event.status is Status.PAUSED and self.status is not Status.PAUSED:
                    self.resume_to = self.status
                self.status, self.reason = event.status, event.reason
                if event.phase is not None:
                    self.phase = event.phase
            case MessageAdded():
                self._add_message(event.role, event.content)
            case ModelTurned():
                self._model_turned(event)
            case ContextManaged():
                self.elided.update(event.elided)
                if event.exceeded:
                    self.context_exceeded += 1
                    self.usage.add(event.usage or Usage(), phase=str(self.phase or "plan"))
            case ToolStarted():
                self.started.add(event.id)
            case ToolFinished():
                self.results[event.id] = {"text": event.text, "is_error": event.is_error}
                if event.images:
                    self.results[event.id]["images"] = event.images
                if event.read:
                    self.reads[event.read["path"]] = event.read["stamp"]
            case ChangeApplied():
                self.applied.add(event.id)
            case Asked():
                self.questions[event.id] = event.question
            case Answered():
                self.answers[event.id] = event.answer
                question = self.questions.get(event.id)
                if question and question.kind == "plan" and event.answer.choice == "approve":
                    self.approved_plan = question.plan
                if question and question.kind == "permission" and event.answer.choice == "session":
                    self.allowed.add(question.command or "")
            case Withdrawn():
                self.withdrawn[event.id] = event.reason
            case PlanProposed():
                self.plan, self.plan_version = event.plan, event.version
                # A revision after some phases ran keeps what those phases did.
                kept = {i: s for i, s in self.phases.items() if i < self.phase}
                self.phases = {
                    i: kept.get(i, PhaseStatus.PENDING)
                    for i in range(1, len(event.plan.phases) + 1)
                }
            case PlanAmended():
                change = {"files": event.files, "commands": event.commands}
                if self.plan is not None:
                    self.plan = amended(self.plan, event.phase, **change)
                if self.approved_plan is not None:
                    self.approved_plan = amended(self.approved_plan, event.phase, **change)
                self.amendments.append(event)
            case PhaseChanged():
                self.phases[event.index] = event.status
                if event.summary:
                    self.summaries[event.index] = event.summary
                if event.status is PhaseStatus.RUNNING and event.attempt is not None:
                    self.attempts[event.index] = event.attempt
            case Checkpointed():
                self.checkpoints[event.phase] = event.commit
                self.project_heads[event.phase] = event.project
                self.agent_changes[event.phase] = []  # a phase run again starts afresh
            case AgentChanged():
                self.agent_changes.setdefault(event.phase, []).extend(event.changes)
                self.tracked.add(event.id)
            case RolledBack():
                self.agent_changes[event.phase] = []  # undone: nothing of it left to undo
            case Validated():
                self.validations.setdefault(event.phase, []).append(event.results)
                self.running_check = None
            case CheckStarted():
                self.running_check = event
            case Interrupted():
                if event.kind == "check":
                    self.running_check = None  # reported once: its validation starts again
            case _:
                pass  # shown to the user, nothing to keep (denied, refusals)

    def _add_message(self, role: str, content: str | list[dict[str, Any]]) -> None:
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if self.messages and self.messages[-1]["role"] == role == "user":
            self.messages[-1] = {
                "role": "user",
                "content": [*self.messages[-1]["content"], *blocks],
            }
        else:
            self.messages.append({"role": role, "content": blocks})

    def _model_turned(self, event: ModelTurned) -> None:
        if event.message["content"]:  # a turn that was all cut off leaves no message
            self._add_message("assistant", event.message["content"])
            if event.model:
                self.producers[len(self.messages) - 1] = event.model
        self.usage.add(event.usage, phase=str(self.phase or "plan"))
        self.turns += 1
        self.last_stop_reason = event.stop_reason
        self.last_prompt_tokens = event.usage.prompt_tokens
        self.last_prompt_chars = event.prompt_chars
        self.context_exceeded = 0
        self.truncations = self.truncations + 1 if event.stop_reason == "max_tokens" else 0


def replay(events: list[LoggedEvent]) -> SessionState:
    """The state after the logged `events`."""
    state = SessionState()
    for logged in events:
        state.apply(logged.event)
    return state


__all__ = ["TERMINAL", "PhaseStatus", "SessionState", "Status", "replay"]
