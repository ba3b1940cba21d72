"""The `plangate/` custom protocol: params and results of every method, as pydantic models
(the methods themselves, with their docs, are in `methods.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plangate.workflow.timeline import TimelineEntry


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AgentInfo(BaseModel):
    """An agent as the editor lists it."""

    name: str
    description: str
    mode: str
    model: str | None
    resolved_model: str | None = Field(serialization_alias="resolvedModel")
    tools: dict[str, bool]
    source: str
    origin: str
    problems: list[str]


class ListAgentsParams(_Params):
    """No parameters (an optional workspace folder)."""

    workspace_folder: str | None = Field(None, alias="workspaceFolder")


class ListAgentsResult(BaseModel):
    """Every agent found, with where it came from."""

    agents: list[AgentInfo]


class ProposePlanParams(_Params):
    """Start a session: the agent analyses the task and proposes a plan."""

    agent: str = Field(min_length=1)
    task: str = Field(min_length=1)
    workspace_folder: str | None = Field(None, alias="workspaceFolder")
    work_done_token: str | int | None = Field(None, alias="workDoneToken")


class PhaseInfo(BaseModel):
    """A phase of the plan and where it is."""

    index: int
    name: str
    status: str
    tests_passed: int | None = Field(None, serialization_alias="testsPassed")
    tests_failed: int | None = Field(None, serialization_alias="testsFailed")


class McpServerInfo(BaseModel):
    """An MCP server of the session: the tools it offered, or why it could not be started."""

    name: str
    transport: str
    tools: list[str] = []
    error: str = ""


class SessionSummary(BaseModel):
    """A session's state as the editor shows it."""

    session_id: str = Field(serialization_alias="sessionId")
    agent: str
    task: str
    status: str
    reason: str
    phase: int
    phases: list[PhaseInfo]
    pending: dict[str, Any] | None
    plan_uri: str | None = Field(serialization_alias="planUri")
    usage: dict[str, int]
    cost_usd: float | None = Field(serialization_alias="costUsd")
    # The MCP servers its last run started (or could not).
    mcp_servers: list[McpServerInfo] = Field([], serialization_alias="mcpServers")


class ProposePlanResult(BaseModel):
    """The session and the plan it proposed (or why it stopped before one)."""

    session_id: str = Field(serialization_alias="sessionId")
    plan: dict[str, Any] | None
    plan_uri: str | None = Field(serialization_alias="planUri")
    status: str


class ApprovePhaseParams(_Params):
    """Answer the pending approval: phase 0 is the plan itself. Besides approving a plan or a
    phase, it answers what else a phase may ask: after a failed validation retry, accept,
    rollback or stop; after a repeated call or a spent budget continue or stop. The decision
    must be one of the pending question's `choices` (see `plangate/sessionStatus`)."""

    session_id: str = Field(alias="sessionId", min_length=1)
    phase: int = Field(ge=0)
    decision: Literal[
        "approve", "revise", "skip", "reject", "rollback", "retry", "accept", "stop", "continue"
    ]
    feedback: str = ""
    # The kind of question the decision answers, as the client showed it (`pending.kind`): a
    # question of another kind pending now (a phase's approval became its amendment) is not
    # answered by a stale button.
    kind: str | None = None


class SessionParams(_Params):
    """A session id."""

    session_id: str = Field(alias="sessionId", min_length=1)


class RollbackParams(_Params):
    """Roll a phase back to its checkpoint."""

    session_id: str = Field(alias="sessionId", min_length=1)
    phase: int = Field(ge=1)


class RollbackFilesResult(BaseModel):
    """The files a rollback of the phase would put back, before it is confirmed."""

    phase: int
    files: list[str]


class ListSessionsResult(BaseModel):
    """Sessions of the open workspace folders, newest first."""

    sessions: list[SessionSummary]


class ExecuteToolParams(_Params):
    """Run one tool with the same permissions and gates as when the model calls it."""

    tool: str = Field(min_length=1)
    input: dict[str, Any]
    session_id: str | None = Field(None, alias="sessionId")
    agent: str | None = None
    workspace_folder: str | None = Field(None, alias="workspaceFolder")


class ExecuteToolResult(BaseModel):
    """The tool's text for the model, whether it failed, and its structured data."""

    text: str
    is_error: bool = Field(serialization_alias="isError")
    data: dict[str, Any]


class OutputParams(BaseModel):
    """`plangate/output`: streamed model text and tool activity."""

    session_id: str = Field(serialization_alias="sessionId")
    kind: str
    text: str


class RecordResult(BaseModel):
    """`plangate/sessionRecord`: the approval record, and the file it was written to."""

    markdown: str
    uri: str


class TimelineResult(BaseModel):
    """`plangate/sessionTimeline`: the session's log in words, oldest first."""

    entries: list[TimelineEntry]


class ReviewHunk(BaseModel):
    """One hunk of a proposed change: 0-based lines in the file now and in the proposal."""

    index: int
    original_start: int = Field(serialization_alias="originalStart")
    original_lines: int = Field(serialization_alias="originalLines")
    proposed_start: int = Field(serialization_alias="proposedStart")
    proposed_lines: int = Field(serialization_alias="proposedLines")


class ReviewEditParams(BaseModel):
    """`plangate/reviewEdit`: a change for the user to review in a diff, hunk by hunk."""

    session_id: str = Field(serialization_alias="sessionId")
    question_id: str = Field(serialization_alias="questionId")
    title: str
    uri: str
    path: str
    kind: Literal["create", "modify"]
    original: str
    proposed: str
    hunks: list[ReviewHunk]


class ReviewEditResult(_Params):
    """What the user decided: accept (the hunks named, or all), or reject, with a reason."""

    decision: Literal["accept", "reject"]
    hunks: list[int] | None = None
    reason: str = ""
