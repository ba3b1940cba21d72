"""Session state: nothing but the replay of the event log."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from plangate.model.usage import Usage, UsageLedger
from plangate.workflow.approvals import Answer, Question
from plangate.workflow.events import Event
from plangate.workflow.plan import Plan


class Status(StrEnum):
    """Where a session is."""

    ANALYSING = "analysing"
    PLAN_PROPOSED = "plan proposed"
    AWAITING_PHASE = "awaiting phase approval"
    RUNNING = "running"
    VALIDATING = "validating"
    DOCUMENTING = "documenting"
    COMPLETED = "completed"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FAILED = "failed"


TERMINAL = frozenset({Status.COMPLETED, Status.CANCELLED, Status.FAILED})


class PhaseStatus(StrEnum):
    """Where a phase is."""

    PENDING = "pending"
    AWAITING = "awaiting approval"
    RUNNING = "running"
    VALIDATING = "validating"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    ROLLED_BACK = "rolled back"


class SessionState(BaseModel):
    """Everything about a session, rebuilt from its events."""

    id: str = ""
    agent: str = ""
    task: str = ""
    model: str = ""
    status: Status = Status.ANALYSING
    reason: str = ""
    resume_to: Status | None = None
    plan: Plan | None = None
    plan_version: int = 0
    phase: int = 0  # 1-based index of the current (or next) phase; 0 before approval
    phases: dict[int, PhaseStatus] = {}
    summaries: dict[int, str] = {}
    attempts: dict[int, int] = {}
    checkpoints: dict[int, str] = {}
    messages: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}  # tool_use id -> {"text", "is_error"}
    started: set[str] = set()  # tool_use ids whose execution began
    applied: set[str] = set()  # tool_use ids whose change is on disk
    questions: dict[str, Question] = {}
    answers: dict[str, Answer] = {}
    allowed: set[str] = set()  # "allow for this session"
    reads: dict[str, dict[str, Any]] = {}  # path -> file stamp, for the edit tool's ledger
    usage: UsageLedger = UsageLedger()
    turns: int = 0
    validations: dict[int, list[list[dict[str, Any]]]] = {}
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
            if qid not in self.answers:
                return question
        return None

    @property
    def open_tool_calls(self) -> list[dict[str, Any]]:
        """Tool calls of the last assistant message that have no result yet."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return []
        return [
            block
            for block in self.messages[-1]["content"]
            if block["type"] == "tool_use" and block["id"] not in self.results
        ]

    @property
    def tool_calls_answered(self) -> bool:
        """The last assistant message called tools and every call has its result."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return False
        calls = [b for b in self.messages[-1]["content"] if b["type"] == "tool_use"]
        return bool(calls) and all(c["id"] in self.results for c in calls)

    @property
    def total_usage(self) -> Usage:
        """Usage of every model turn so far."""
        return self.usage.total

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        data = event.data
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(data)

    def _on_started(self, data: dict[str, Any]) -> None:
        self.id, self.agent, self.task, self.model = (
            data["id"],
            data["agent"],
            data["task"],
            data["model"],
        )

    def _on_status(self, data: dict[str, Any]) -> None:
        status = Status(data["status"])
        if status is Status.PAUSED:
            self.resume_to = self.status if self.status is not Status.PAUSED else self.resume_to
        self.status = status
        self.reason = data.get("reason", "")
        if "phase" in data:
            self.phase = data["phase"]

    def _on_message(self, data: dict[str, Any]) -> None:
        content = data["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if self.messages and self.messages[-1]["role"] == data["role"] == "user":
            self.messages[-1] = {
                "role": "user",
                "content": [*self.messages[-1]["content"], *blocks],
            }
        else:
            self.messages.append({"role": data["role"], "content": blocks})

    def _on_model_turn(self, data: dict[str, Any]) -> None:
        usage = Usage.model_validate(data["usage"])
        if data["message"]["content"]:  # a turn that was all cut off leaves no message
            self._on_message(data["message"])
            if data.get("model"):
                self.producers[len(self.messages) - 1] = data["model"]
        self.usage.add(usage, phase=str(self.phase or "plan"))
        self.turns += 1
        self.last_stop_reason = data.get("stop_reason", "")
        self.last_prompt_tokens = usage.prompt_tokens
        self.last_prompt_chars = data.get("prompt_chars", 0)
        self.context_exceeded = 0
        cut = data.get("stop_reason") == "max_tokens"
        self.truncations = self.truncations + 1 if cut else 0

    def _on_context(self, data: dict[str, Any]) -> None:
        self.elided.update(data.get("elided", []))
        if data.get("exceeded"):
            self.context_exceeded += 1
            self.usage.add(Usage.model_validate(data["usage"]), phase=str(self.phase or "plan"))

    def _on_tool_started(self, data: dict[str, Any]) -> None:
        self.started.add(data["id"])

    def _on_tool_result(self, data: dict[str, Any]) -> None:
        self.results[data["id"]] = {"text": data["text"], "is_error": data["is_error"]}
        if data.get("read"):
            self.reads[data["read"]["path"]] = data["read"]["stamp"]

    def _on_applied(self, data: dict[str, Any]) -> None:
        self.applied.add(data["id"])

    def _on_question(self, data: dict[str, Any]) -> None:
        question = Question.model_validate(data)
        self.questions[question.id] = question

    def _on_answer(self, data: dict[str, Any]) -> None:
        answer = Answer.model_validate(data["answer"])
        self.answers[data["id"]] = answer
        question = self.questions.get(data["id"])
        if question is not None and question.kind == "permission" and answer.choice == "session":
            self.allowed.add(question.command or "")

    def _on_plan(self, data: dict[str, Any]) -> None:
        self.plan = Plan.model_validate(data["plan"])
        self.plan_version = data["version"]
        # A revision after some phases ran keeps what those phases did.
        kept = {i: s for i, s in self.phases.items() if i < self.phase}
        self.phases = {
            i: kept.get(i, PhaseStatus.PENDING) for i in range(1, len(self.plan.phases) + 1)
        }

    def _on_phase(self, data: dict[str, Any]) -> None:
        index = data["index"]
        self.phases[index] = PhaseStatus(data["status"])
        if data.get("summary"):
            self.summaries[index] = data["summary"]
        if data["status"] == PhaseStatus.RUNNING and data.get("attempt") is not None:
            self.attempts[index] = data["attempt"]

    def _on_checkpoint(self, data: dict[str, Any]) -> None:
        self.checkpoints[data["phase"]] = data["commit"]

    def _on_validation(self, data: dict[str, Any]) -> None:
        self.validations.setdefault(data["phase"], []).append(data["results"])


def replay(events: list[Event]) -> SessionState:
    """The state after `events`."""
    state = SessionState()
    for event in events:
        state.apply(event)
    return state
