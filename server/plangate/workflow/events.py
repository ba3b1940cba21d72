"""What happens in a session, as typed events.

Everything else (status, plan, conversation, pending question) is derived by replaying them
from the session's log (`workflow/log.py`). Front doors receive the same typed events
(`SessionEvent`), plus the streamed ones that are shown but not kept (`Streamed`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
)

from plangate.model.usage import Usage
from plangate.workflow.approvals import Answer, Question
from plangate.workflow.checkpoints import PathChange
from plangate.workflow.plan import Plan
from plangate.workflow.project import ProjectHead
from plangate.workflow.status import PhaseStatus, Status


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)


class Started(_Event):
    """A session began."""

    type: Literal["started"] = "started"
    id: str
    agent: str
    task: str
    model: str


class InstructionsRead(_Event):
    """The project's instruction files (AGENTS.md, CLAUDE.md, ...) read at the start: kept,
    so the system prompt stays the same for the whole session, across restarts."""

    type: Literal["instructions"] = "instructions"
    files: list[str]
    text: str
    notes: list[str] = []


class StatusChanged(_Event):
    """The session moved to `status` (for `phase`, with a reason when it stopped)."""

    type: Literal["status"] = "status"
    status: Status
    reason: str = ""
    phase: int | None = None


class MessageAdded(_Event):
    """A message of the conversation (the user's task, the engine's word to the model)."""

    type: Literal["message"] = "message"
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class ModelTurned(_Event):
    """A complete model turn: its message (empty when all of it was cut off) and usage."""

    type: Literal["model_turn"] = "model_turn"
    message: dict[str, Any]
    usage: Usage
    stop_reason: str = ""
    model: str = ""
    prompt_chars: int = 0  # size of the conversation sent, to estimate the next prompt


class ToolStarted(_Event):
    """A tool call began to run."""

    type: Literal["tool_started"] = "tool_started"
    id: str
    name: str


class ToolFinished(_Event):
    """A tool call's result, as the model will see it."""

    type: Literal["tool_result"] = "tool_result"
    id: str
    text: str
    is_error: bool = False
    read: dict[str, Any] | None = None  # the file the agent now knows (for the edit tool)
    # Images the tool returned (an MCP tool's): [{"media_type", "data" (base64)}].
    images: list[dict[str, str]] | None = None

    @model_serializer(mode="wrap")
    def _without_unset_images(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Logged results keep the shape they had before images existed: no `"images": null`.
        data: dict[str, Any] = handler(self)
        if data.get("images") is None:
            data.pop("images", None)
        return data


class ChangeApplied(_Event):
    """A proposed change is on disk."""

    type: Literal["applied"] = "applied"
    id: str
    path: str


class Asked(Question):
    """A question was put to the user (the question's own fields, flat, as on disk)."""

    model_config = ConfigDict(frozen=True)
    type: Literal["question"] = "question"

    @property
    def question(self) -> Question:
        """The question itself."""
        return Question.model_validate(self.model_dump(exclude={"type"}))


class Answered(_Event):
    """The user answered question `id`."""

    type: Literal["answer"] = "answer"
    id: str
    answer: Answer


class Withdrawn(_Event):
    """Question `id` was taken back unanswered: what it asked about no longer holds."""

    type: Literal["withdrawn"] = "withdrawn"
    id: str
    reason: str


class PlanProposed(_Event):
    """The model proposed (or revised) the plan."""

    type: Literal["plan"] = "plan"
    plan: Plan
    version: int


class PlanAmended(_Event):
    """The user approved a change to the approved plan: phase `phase` also declares `files`
    and `commands` (the model's `reason`, and the change to the plan document as `diff`)."""

    type: Literal["amended"] = "amended"
    phase: int
    files: list[str] = []
    commands: list[str] = []
    reason: str
    question: str = ""  # the id of the amendment question the user answered
    diff: str
    at: float


class PhaseChanged(_Event):
    """Phase `index` moved to `status`."""

    type: Literal["phase"] = "phase"
    index: int
    status: PhaseStatus
    summary: str = ""
    attempt: int | None = None


class Checkpointed(_Event):
    """A snapshot of the workspace before a phase, and where the project's git HEAD was then
    (None: not a git repository); a rollback is refused once HEAD or the branch moved."""

    type: Literal["checkpoint"] = "checkpoint"
    phase: int
    commit: str
    project: ProjectHead | None = None


class AgentChanged(_Event):
    """What the agent changed in a phase: the paths an accepted edit wrote, or a command of
    its own changed (tool call `id`), each with its content hash before and after. Rollback
    undoes these paths and no others."""

    type: Literal["agent_changed"] = "agent_changed"
    id: str
    phase: int
    changes: list[PathChange]


class RolledBack(_Event):
    """A phase's changes were undone: `paths` restored, or deleted where the agent had
    created them. `undo` is the snapshot taken just before, which undoes the rollback."""

    type: Literal["rollback"] = "rollback"
    phase: int
    paths: list[str]
    undo: str = ""
    undo_command: str = ""  # run in the workspace, it puts `paths` back as `undo` has them
    message: str = ""  # for the user: what was undone, and how to undo that


class RollbackRefused(_Event):
    """A rollback was refused and changed nothing: why, and the files concerned."""

    type: Literal["rollback_refused"] = "rollback_refused"
    phase: int
    message: str
    paths: list[str]


class Validated(_Event):
    """The results of a phase's checks."""

    type: Literal["validation"] = "validation"
    phase: int
    attempt: int
    results: list[dict[str, Any]]


class CheckStarted(_Event):
    """Check `number` of a phase's validation began to run (the phase's `Validated` ends it)."""

    type: Literal["check_started"] = "check_started"
    phase: int
    attempt: int
    number: int
    command: str


class Interrupted(_Event):
    """Found on resuming: a command (`kind` "bash") or a validation check ("check") was running
    when PlanGate stopped, and has no result."""

    type: Literal["interrupted"] = "interrupted"
    kind: Literal["bash", "check", "mcp"]
    command: str
    phase: int = 0
    message: str


class McpConnected(_Event):
    """An MCP server the session started (its tools offered to the model), or why it could not
    be started (the session goes on without it)."""

    type: Literal["mcp"] = "mcp"
    name: str
    transport: str
    tools: list[str] = []
    error: str = ""


class Denied(_Event):
    """An attempt a deny rule refused, with the decision (rule, reason) that refused it."""

    model_config = ConfigDict(frozen=True, extra="allow")
    type: Literal["denied"] = "denied"
    kind: str
    target: str
    tool: str
    phase: int = 0
    at: float = 0.0


class ContextManaged(_Event):
    """Old tool results cleared to fit the window, or a turn lost to a full window."""

    type: Literal["context"] = "context"
    elided: list[str] = []
    before: int = 0
    after: int = 0
    exceeded: str = ""
    usage: Usage | None = None


class Refused(_Event):
    """The model declined, with the API's stop_details."""

    type: Literal["refusal"] = "refusal"
    category: str | None = None
    explanation: str = ""


SessionEvent = Annotated[
    Started
    | InstructionsRead
    | StatusChanged
    | MessageAdded
    | ModelTurned
    | ToolStarted
    | ToolFinished
    | ChangeApplied
    | Asked
    | Answered
    | Withdrawn
    | PlanProposed
    | PlanAmended
    | PhaseChanged
    | Checkpointed
    | AgentChanged
    | RolledBack
    | RollbackRefused
    | Validated
    | CheckStarted
    | Interrupted
    | McpConnected
    | Denied
    | ContextManaged
    | Refused,
    Field(discriminator="type"),
]
EVENT: TypeAdapter[SessionEvent] = TypeAdapter(SessionEvent)


class TextStreamed(_Event):
    """A piece of the model's answer, as it streams (shown, not kept)."""

    type: Literal["text"] = "text"
    text: str


class ThinkingStreamed(_Event):
    """A piece of the model's summarised thinking (shown, not kept)."""

    type: Literal["thinking"] = "thinking"
    text: str


class RetryScheduled(_Event):
    """A failed turn will be retried after `delay` seconds (shown, not kept)."""

    type: Literal["retry"] = "retry"
    message: str
    delay: float


class OutputStreamed(_Event):
    """Output of a running command (shown, not kept)."""

    type: Literal["output"] = "output"
    text: str


Streamed = TextStreamed | ThinkingStreamed | RetryScheduled | OutputStreamed
Shown = SessionEvent | Streamed  # what a front door's event sink receives
