"""The `plangate/` custom protocol: params and results of every method, as pydantic models.

docs/protocol.md is generated from `METHODS` (`python -m plangate.lsp.protocol`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plangate.lsp.errors import (
    NO_PENDING_APPROVAL,
    NOT_PAUSED,
    ROLLBACK_REFUSED,
    UNKNOWN_AGENT,
    UNKNOWN_SESSION,
)
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


@dataclass(frozen=True)
class Method:
    """One method of the protocol, for dispatch and for the docs."""

    name: str
    direction: Literal["request", "notification", "server request"]
    params: type[BaseModel] | None
    result: type[BaseModel] | None
    doc: str
    example: dict[str, Any]


METHODS: list[Method] = [
    Method(
        "plangate/listAgents",
        "request",
        ListAgentsParams,
        ListAgentsResult,
        "Every agent along the search path, with its source file and its problems.",
        {"workspaceFolder": "file:///home/me/src/orders-api"},
    ),
    Method(
        "plangate/proposePlan",
        "request",
        ProposePlanParams,
        ProposePlanResult,
        "Start a session; answers once the plan is proposed and opens the plan document.",
        {"agent": "backend-developer", "task": "Add pagination to GET /orders"},
    ),
    Method(
        "plangate/approvePhase",
        "request",
        ApprovePhaseParams,
        SessionSummary,
        "Answer the pending approval of the plan (phase 0) or of a phase.",
        {"sessionId": "20261125-120000-abc123", "phase": 1, "decision": "approve"},
    ),
    Method(
        "plangate/executeTool",
        "request",
        ExecuteToolParams,
        ExecuteToolResult,
        "Run a tool as the agent would, with the same permissions and gates.",
        {"agent": "backend-developer", "tool": "grep", "input": {"pattern": "TODO"}},
    ),
    Method(
        "plangate/sessionStatus",
        "request",
        SessionParams,
        SessionSummary,
        "A session's state.",
        {"sessionId": "20261125-120000-abc123"},
    ),
    Method(
        "plangate/sessionRecord",
        "request",
        SessionParams,
        RecordResult,
        "The session's approval record (as `plangate record`), written to "
        "`.plangate/records/<session>.md`: the approved plan, each amendment with who approved "
        "it and when, each phase's approval, reviewed diffs, validation and acceptance results, "
        "denied attempts and cost. Built from the event log: it holds no secret.",
        {"sessionId": "20261125-120000-abc123"},
    ),
    Method(
        "plangate/listSessions",
        "request",
        None,
        ListSessionsResult,
        "Sessions of the workspace folders, newest first.",
        {},
    ),
    Method(
        "plangate/sessionTimeline",
        "request",
        SessionParams,
        TimelineResult,
        "A session's log as a person reads it, oldest first: each tool call with its file or "
        "command and how it ended, each validation with its checks, each denial with its "
        "reason, each question and its answer, phase changes, pauses and rollbacks (`kind`; "
        "`ok` is false for a failure, a denial or a rejection). Nothing meant only for the "
        "model (prompts, tool output) is in it.",
        {"sessionId": "20261125-120000-abc123"},
    ),
    Method(
        "plangate/cancel",
        "request",
        SessionParams,
        SessionSummary,
        "Cancel a session for good.",
        {"sessionId": "20261125-120000-abc123"},
    ),
    Method(
        "plangate/resume",
        "request",
        SessionParams,
        SessionSummary,
        "Run a paused session again from where it stopped (a pause's `reason` says why it "
        "stopped: an API error, a full disk, an internal error). The session is rebuilt with "
        "the API settings and agent file as they are now; if the cause is still there it "
        f"pauses again with the reason. A session that is not paused answers {NOT_PAUSED}.",
        {"sessionId": "20261125-120000-abc123"},
    ),
    Method(
        "plangate/rollbackPhase",
        "request",
        RollbackParams,
        SessionSummary,
        "Undo what the agent changed in a phase (the files it edited go back to the phase's "
        "checkpoint, the files it created are deleted) and nothing else: files the user "
        "changed are kept. The workspace is snapshotted first, and the `plangate/output` "
        "of kind `rollback` gives the git command that undoes the rollback. Refused with "
        f"{ROLLBACK_REFUSED}, changing nothing, when the project's git branch or HEAD moved "
        "since the phase began or when someone else changed a file the agent changed; the "
        "message names the files.",
        {"sessionId": "20261125-120000-abc123", "phase": 2},
    ),
    Method(
        "plangate/rollbackFiles",
        "request",
        RollbackParams,
        RollbackFilesResult,
        "The files a `plangate/rollbackPhase` of the phase would put back (what the agent "
        "changed in it), changing nothing: for the user to see before confirming. The Roll "
        "back lens asks the same way (`window/showMessageRequest` naming the files) before it "
        "rolls back.",
        {"sessionId": "20261125-120000-abc123", "phase": 2},
    ),
    Method(
        "plangate/sessionChanged",
        "notification",
        SessionSummary,
        None,
        "Sent to the client whenever a session's state, phase, usage or cost changes.",
        {
            "sessionId": "20261125-120000-abc123",
            "agent": "backend-developer",
            "task": "Add pagination to GET /orders",
            "status": "awaiting phase approval",
            "reason": "",
            "phase": 2,
            "phases": [
                {
                    "index": 1,
                    "name": "Database",
                    "status": "done",
                    "testsPassed": 12,
                    "testsFailed": 0,
                },
                {
                    "index": 2,
                    "name": "API endpoints",
                    "status": "awaiting approval",
                    "testsPassed": None,
                    "testsFailed": None,
                },
            ],
            "pending": {
                "kind": "phase",
                "title": "Start phase 2: API endpoints?",
                "choices": ["approve", "revise", "skip", "reject", "rollback"],
                "phase": 2,
            },
            "planUri": "file:///home/me/src/orders-api/.plangate/plans/20261125-120000-abc123/"
            "Add%20a%20priority%20to%20tasks.md",
            "usage": {"input_tokens": 18211, "output_tokens": 2104},
            "costUsd": 0.0862,
            "mcpServers": [
                {
                    "name": "git",
                    "transport": "stdio",
                    "tools": ["git_status", "git_log"],
                    "error": "",
                }
            ],
        },
    ),
    Method(
        "plangate/reviewEdit",
        "server request",
        ReviewEditParams,
        ReviewEditResult,
        "Sent instead of `workspace/applyEdit` to a client that declares "
        "`experimental.plangate.reviewEdit: true` in its capabilities, for a file changed or "
        "created: the client shows the change as a diff (the file now against `proposed`) "
        "with Accept and Reject for the whole and for each hunk, and answers what the user "
        "decided. `hunks` in the answer lists the accepted hunks' indices (omitted: all); "
        "accepting none is a rejection. The server writes the file (the client does not): "
        "exactly the accepted hunks, the rest of the file as it was, and the model is told "
        "which hunks were rejected and the reason. A session cancelled or paused meanwhile "
        "sends `$/cancelRequest` for it, and the client closes the diff. An answer that does "
        "not parse, or names a hunk that is not there, counts as a rejection saying so.",
        {
            "sessionId": "20261125-120000-abc123",
            "questionId": "edit:toolu_01#1",
            "title": "Phase 2 · API endpoints: change app/api.py",
            "uri": "file:///home/me/src/orders-api/app/api.py",
            "path": "app/api.py",
            "kind": "modify",
            "original": "def list_orders():\n    return db.all()\n",
            "proposed": "def list_orders(page=1):\n    return db.page(page)\n",
            "hunks": [
                {
                    "index": 0,
                    "originalStart": 0,
                    "originalLines": 2,
                    "proposedStart": 0,
                    "proposedLines": 2,
                }
            ],
        },
    ),
    Method(
        "plangate/output",
        "notification",
        OutputParams,
        None,
        "Streamed model text and tool activity.",
        {"sessionId": "20261125-120000-abc123", "kind": "text", "text": "Reading app.py"},
    ),
]


def render_docs() -> str:
    """docs/protocol.md."""
    lines = [
        "# The plangate/ protocol",
        "",
        "Generated from `server/plangate/lsp/protocol.py` by `python -m plangate.lsp.protocol`;"
        " do not edit by hand.",
        "",
        "Requests go from the client to the server; notifications and server requests from "
        "the server to the client. A client declares what it handles beyond LSP in "
        "`capabilities.experimental.plangate` at `initialize`: `reviewEdit: true` for "
        "`plangate/reviewEdit`, `sessionChanged: true` when it shows `plangate/sessionChanged` "
        "(a client that does not is told the moments that need the user, the plan ready, a "
        "phase waiting, a validation to decide on, a pause with its reason, the end, as "
        "`window/showMessage`, each once). Who writes a changed file depends on the client: "
        "with `reviewEdit` the server (the client only shows the diff); with previews "
        "(`workspaceEdit.changeAnnotationSupport`) the client applies the annotated "
        "`workspace/applyEdit` and the server then writes only what the file does not hold "
        "yet; otherwise the server asks with `window/showMessageRequest` (Apply / Reject) and "
        "writes the file itself, sending no buffer edit, and the editor reloads the file. "
        "Invalid params answer -32602 naming the field; an "
        "unknown session answers "
        f"{UNKNOWN_SESSION}, an approval that is not pending {NO_PENDING_APPROVAL}, an unknown "
        f"agent {UNKNOWN_AGENT}, a refused rollback {ROLLBACK_REFUSED}, a resume of a session "
        f"that is not paused {NOT_PAUSED}. Code-lens buttons (also offered as code actions on "
        "the plan document, for editors without lenses) are `workspace/executeCommand` "
        "commands (`plangate.approvePhase`, `plangate.rollbackPhase`, `plangate.resume`, "
        "`plangate.cancel`) taking the same arguments as the requests, in order.",
        "",
    ]
    for method in METHODS:
        lines += [f"## `{method.name}` ({method.direction})", "", method.doc, ""]
        if method.params is not None:
            lines += [
                "Example params:",
                "",
                "```json",
                json.dumps(method.example, indent=2),
                "```",
                "",
            ]
        if method.params is not None:
            # What the server sends (notifications, its requests): params as serialized.
            mode: Literal["validation", "serialization"] = (
                "validation" if method.direction == "request" else "serialization"
            )
            schema = method.params.model_json_schema(by_alias=True, mode=mode)
            lines += ["Params schema:", "", "```json", json.dumps(schema, indent=2), "```", ""]
        if method.result is not None:
            # What the client answers the server's requests with is read (validated).
            answered: Literal["validation", "serialization"] = (
                "validation" if method.direction == "server request" else "serialization"
            )
            schema = method.result.model_json_schema(by_alias=True, mode=answered)
            lines += ["Result schema:", "", "```json", json.dumps(schema, indent=2), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_docs(), end="")
