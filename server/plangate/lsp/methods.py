"""Every method of the `plangate/` protocol: its direction, params and result models (from
`protocol.py`), what it does, an example; the table dispatch and tests use, and the source of
docs/protocol.md (`python -m plangate.lsp.methods > docs/protocol.md`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from plangate.lsp.errors import (
    NO_PENDING_APPROVAL,
    NOT_PAUSED,
    ROLLBACK_REFUSED,
    UNKNOWN_AGENT,
    UNKNOWN_SESSION,
)
from plangate.lsp.protocol import (
    ApprovePhaseParams,
    ExecuteToolParams,
    ExecuteToolResult,
    ListAgentsParams,
    ListAgentsResult,
    ListSessionsResult,
    OutputParams,
    ProposePlanParams,
    ProposePlanResult,
    RecordResult,
    ReviewEditParams,
    ReviewEditResult,
    RollbackFilesResult,
    RollbackParams,
    SessionParams,
    SessionSummary,
    TimelineResult,
)


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
        "Generated from `server/plangate/lsp/methods.py` by `python -m plangate.lsp.methods`;"
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
        "`plangate.cancel`, `plangate.status`) taking the same arguments as the requests, in "
        "order; `plangate.showPlanChange` (sessionId) shows the pending amendment's or "
        "revision's change to the plan as a diff document.",
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
