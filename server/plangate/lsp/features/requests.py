"""The `plangate/` requests: list agents, propose a plan (start a session), answer its
approvals, its status, list sessions, cancel, resume, roll back a phase, run a tool through
the gates.

Params are validated by the models of `lsp/protocol.py` (-32602 naming the field); those and
the engine load with the first request, not before `initialize`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerError

from plangate.lsp.errors import NO_PENDING_APPROVAL, NOT_PAUSED, ROLLBACK_REFUSED, server_error
from plangate.lsp.params import dump, parse

if TYPE_CHECKING:
    from plangate.lsp.protocol import ApprovePhaseParams
    from plangate.lsp.server import PlanGateServer


async def list_agents(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Every agent along the search path (read and parsed off the event loop)."""
    from plangate.agents import discover
    from plangate.lsp.protocol import AgentInfo, ListAgentsParams, ListAgentsResult

    request = parse(ListAgentsParams, params)
    folder = ls.sessions.folder(request.workspace_folder)
    found = await asyncio.to_thread(discover, folder)
    agents = [
        AgentInfo(
            name=a.name,
            description=a.description,
            mode=a.mode,
            model=a.model,
            resolved_model=a.model_id,
            tools=a.tools,
            source=str(a.source.path),
            origin=a.source.origin.value,
            problems=[d.display(folder) for d in a.diagnostics],
        )
        for a in found.agents.values()
    ]
    return dump(ListAgentsResult(agents=agents))


async def propose_plan(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Start a session; answer when its plan is proposed (or it stopped before one)."""
    from plangate.lsp.protocol import ProposePlanParams, ProposePlanResult

    request = parse(ProposePlanParams, params)
    workspace = ls.sessions.folder(request.workspace_folder)
    # Found and parsed off the event loop: an agent file may be large or hostile.
    agent = await asyncio.to_thread(ls.sessions.agent, request.agent, workspace)
    live = ls.sessions.start(agent, request.task, workspace)
    assert live.task is not None
    token = request.work_done_token
    watched: set[asyncio.Future[Any]] = {live.task}
    if token is not None:
        ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="PlanGate: analysing", message=request.task[:80], cancellable=True
            ),
        )
        cancelled = ls.work_done_progress.tokens.get(token)
        if cancelled is not None:  # resolved (cancelled) when the user cancels the progress
            watched.add(asyncio.wrap_future(cancelled))
    waiting = asyncio.ensure_future(live.approvals.waiting.wait())
    try:
        done, _ = await asyncio.wait({waiting, *watched}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # $/cancelRequest: the analysis stops with the request
        live.session.cancel("cancelled from the editor while analysing")
        live.task.cancel()
        raise
    finally:
        waiting.cancel()
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="plan proposed"))
    if token is not None and any(
        f is not live.task and f is not waiting and f.cancelled() for f in done
    ):
        live.session.cancel("cancelled from the editor while analysing")
        live.task.cancel()
    summary = ls.sessions.summary(live.session.state.id)
    plan = live.session.state.plan
    if summary.plan_uri:
        _show_plan(ls, summary.plan_uri)
    return dump(
        ProposePlanResult(
            session_id=summary.session_id,
            plan=plan.model_dump() if plan else None,
            plan_uri=summary.plan_uri,
            status=summary.status,
        )
    )


def _show_plan(ls: PlanGateServer, uri: str) -> None:
    """Open the plan in the editor, if the client can be asked to (`window.showDocument`);
    otherwise say where it is. A client that lacks it may answer null, which is no reply."""
    window = ls.client_capabilities.window
    show = window.show_document if window else None
    if show is not None and show.support:
        ls.spawn(ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True)))
        return
    from plangate.lsp.params import uri_path

    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Info,
            message=f"PlanGate: the plan is ready for review in {uri_path(uri)}",
        )
    )


def approve(ls: PlanGateServer, request: ApprovePhaseParams) -> dict[str, Any]:
    """Answer the pending approval the request names. The reply is the session with that
    question answered; the engine takes the answer once the reply has gone out (see
    `LspApprovals.answer`), so what it does next reaches the client after the reply."""
    from plangate.workflow.approvals import Answer

    live = ls.sessions.get(request.session_id)
    pending = live.approvals.pending
    where = ls.sessions.pending_phase(live)
    stale = pending is not None and request.kind is not None and request.kind != pending.kind
    if pending is None or where != request.phase or stale:
        what = "nothing" if pending is None else f"{pending.kind} of phase {where}: {pending.title}"
        raise server_error(
            f"no approval of phase {request.phase} is pending (waiting for {what})",
            NO_PENDING_APPROVAL,
        )
    if request.decision not in pending.choices:
        raise JsonRpcInvalidParams(
            f"invalid params: 'decision': must be one of {', '.join(pending.choices)}"
        )
    live.approvals.answer(Answer(choice=request.decision, feedback=request.feedback))
    return dump(ls.sessions.summary(request.session_id))


def approve_phase(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Answer the pending approval of the plan (phase 0) or a phase."""
    from plangate.lsp.protocol import ApprovePhaseParams

    return approve(ls, parse(ApprovePhaseParams, params))


def session_status(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """A session's state."""
    from plangate.lsp.protocol import SessionParams

    request = parse(SessionParams, params)
    return dump(ls.sessions.summary(request.session_id))


def list_sessions(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Sessions of the workspace folders, newest first."""
    from plangate.lsp.protocol import ListSessionsResult

    summaries = []
    for session_id in ls.sessions.all_ids():
        try:
            summaries.append(ls.sessions.summary(session_id))
        except JsonRpcServerError:
            continue
    return dump(ListSessionsResult(sessions=summaries))


async def session_record(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """A session's approval record, written next to its log for a pull request or an audit."""
    from plangate.layout import Layout
    from plangate.lsp.protocol import RecordResult, SessionParams
    from plangate.workflow.record import record

    request = parse(SessionParams, params)
    live = ls.sessions.get(request.session_id)
    log = live.session.log
    text = await asyncio.to_thread(lambda: record(log.read()))
    target = Layout(live.session.workspace).root / "records" / f"{request.session_id}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return dump(RecordResult(markdown=text, uri=target.as_uri()))


async def session_timeline(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """A session's log in words: tool calls, validations, denials, questions and answers."""
    from plangate.lsp.protocol import SessionParams, TimelineResult
    from plangate.workflow.timeline import timeline

    request = parse(SessionParams, params)
    log = ls.sessions.get(request.session_id).session.log
    # A long session's log is megabytes: read and summarised off the event loop.
    entries = await asyncio.to_thread(lambda: timeline(log.read()))
    return dump(TimelineResult(entries=entries))


def cancel(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Cancel a session for good."""
    from plangate.lsp.protocol import SessionParams

    request = parse(SessionParams, params)
    live = ls.sessions.get(request.session_id)
    live.session.cancel("cancelled from the editor")
    if live.task is not None:
        live.task.cancel()
    ls.session_changed(request.session_id)
    return dump(ls.sessions.summary(request.session_id))


def resume(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Run a paused session again from where it stopped (the pause's cause fixed, or not:
    then it pauses again, saying why)."""
    from plangate.lsp.protocol import SessionParams
    from plangate.workflow.state import Status

    request = parse(SessionParams, params)
    live = ls.sessions.get(request.session_id)
    status = live.session.state.status
    if status is not Status.PAUSED:
        raise server_error(
            f"session '{request.session_id}' is not paused (it is {status.value})", NOT_PAUSED
        )
    ls.sessions.resume(request.session_id)
    return dump(ls.sessions.summary(request.session_id))


def rollback_files(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """The files a rollback of the phase would put back; nothing changes."""
    from plangate.lsp.protocol import RollbackFilesResult, RollbackParams

    request = parse(RollbackParams, params)
    session = ls.sessions.get(request.session_id).session
    return dump(
        RollbackFilesResult(phase=request.phase, files=session.rollback_files(request.phase))
    )


def rollback_phase(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Undo what the agent changed in a phase, while the session waits for the user; a
    refused rollback (the branch moved, someone else changed those files) is an error that
    names the files, and the session goes on as before. A session that waited for its next
    phase, or had finished, then asks to run the rolled-back phase again."""
    from plangate.lsp.protocol import RollbackParams
    from plangate.workflow.rollback import CannotRollBack

    request = parse(RollbackParams, params)
    live = ls.sessions.get(request.session_id)
    busy = live.task is not None and not live.task.done() and live.approvals.pending is None
    if busy:
        raise server_error(
            "the session is working; roll back when it waits for you", NO_PENDING_APPROVAL
        )
    try:
        live.session.rollback(request.phase)
    except CannotRollBack as exc:
        ls.session_changed(request.session_id)
        raise server_error(str(exc), ROLLBACK_REFUSED) from exc
    except ValueError as exc:
        raise server_error(str(exc), NO_PENDING_APPROVAL) from exc
    ls.sessions.ask_again(request.session_id)
    ls.session_changed(request.session_id)
    return dump(ls.sessions.summary(request.session_id))


async def execute_tool(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Run one tool as the agent would. Outside a running phase the plan gate applies: only
    read-only work runs; inside one, write and edit answer once the user applied or rejected
    the preview."""
    from plangate.lsp.protocol import ExecuteToolParams
    from plangate.lsp.tools import execute

    return await execute(ls.sessions, parse(ExecuteToolParams, params))


REQUESTS = {
    "plangate/listAgents": list_agents,
    "plangate/proposePlan": propose_plan,
    "plangate/approvePhase": approve_phase,
    "plangate/sessionStatus": session_status,
    "plangate/listSessions": list_sessions,
    "plangate/sessionTimeline": session_timeline,
    "plangate/sessionRecord": session_record,
    "plangate/cancel": cancel,
    "plangate/resume": resume,
    "plangate/rollbackPhase": rollback_phase,
    "plangate/rollbackFiles": rollback_files,
    "plangate/executeTool": execute_tool,
}


def register(server: PlanGateServer) -> None:
    """Every `plangate/` request."""
    for method, handler in REQUESTS.items():
        server.feature(method)(handler)
