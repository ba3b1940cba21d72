"""`plangate serve`: the pygls language server.

Custom `plangate/` requests drive the engine; plans are documents with code lenses whose buttons
are `workspace/executeCommand` commands (so any LSP client can press them); edits arrive as
workspace-edit previews; 'ask' commands as message requests; paths the agent may not edit carry
diagnostics. Nothing but LSP goes to stdout.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCResponse

import plangate
from plangate.lsp import logs
from plangate.lsp.diagnostics import DiagnosticStore
from plangate.lsp.errors import NO_PENDING_APPROVAL, server_error
from plangate.lsp.sessions import SessionManager

# The request models (pydantic) load with the first request, not before `initialize`.
if TYPE_CHECKING:
    from pydantic import BaseModel

    from plangate.lsp.protocol import ApprovePhaseParams, PhaseInfo

log = logging.getLogger("plangate.lsp")
PLAN_DOCUMENT = re.compile(r"/\.plangate/plans/(?P<id>[^/]+)\.md$")
PHASE_LINE = re.compile(r"^## Phase (?P<n>\d+): ")


def plain(value: Any) -> Any:
    """pygls hands custom params over as namedtuples: back to plain JSON values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


T = TypeVar("T", bound="BaseModel")


def parse(model: type[T], params: Any) -> T:
    """Validate params; -32602 naming the field when they are wrong."""
    from pydantic import ValidationError

    try:
        return model.model_validate(plain(params) or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "params"
        raise JsonRpcInvalidParams(f"invalid params: '{field}': {first['msg']}") from exc


class _Protocol(LanguageServerProtocol):
    """Every message after `initialized` waits for the background import to finish.

    Handlers import the engine lazily; had one imported while the background thread was
    importing the same packages, the two threads' import locks could cross and one would see a
    partially initialized module (an ImportError seen in the LSP tests)."""

    def handle_message(self, message: Any) -> None:
        preload = getattr(self._server, "preload", None)
        if preload is not None and preload.is_alive() and not isinstance(message, RPCResponse):
            preload.join()
        super().handle_message(message)


class PlanGateServer(LanguageServer):
    """The server, with the sessions it runs."""

    def __init__(self) -> None:
        super().__init__("plangate", plangate.__version__, protocol_cls=_Protocol)
        self.sessions = SessionManager(self)
        self.api_key: str | None = None
        self.base_url: str | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self.client_log: logs.ClientLogHandler | None = None
        self.diagnostics = DiagnosticStore(self)
        self.preload: threading.Thread | None = None

    def spawn(self, awaitable: Any) -> None:
        """Fire and forget, keeping a reference until it is done."""
        future = asyncio.ensure_future(awaitable)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    def log(self, message: str, level: str = "info") -> None:
        """To stderr, the log file and the client's log (never secrets)."""
        getattr(log, level)(message)

    def session_changed(self, session_id: str) -> None:
        """A session's state changed: notify and refresh lenses."""
        self.sessions.session_changed(session_id)

    def refresh_lenses(self) -> None:
        """Ask the client to re-request code lenses, when it supports that."""
        workspace = self.client_capabilities.workspace
        lens = workspace.code_lens if workspace else None
        if lens and lens.refresh_support:
            self.spawn(self._refresh())

    async def _refresh(self) -> None:
        try:
            await self.workspace_code_lens_refresh_async(None)
        except Exception as exc:  # a client that says it refreshes but does not
            log.debug("codeLens/refresh failed: %r", exc)


server = PlanGateServer()


@server.feature(types.INITIALIZE)
def initialize(ls: PlanGateServer, params: types.InitializeParams) -> None:
    """The editor may hand over the API key (and, for tests, the scripted server's URL)."""
    options = params.initialization_options or {}
    if isinstance(options, dict):
        ls.api_key = options.get("anthropicApiKey") or None
        ls.base_url = options.get("anthropicBaseUrl") or None
    if ls.client_log is not None:
        ls.client_log.bind()


@server.feature(types.INITIALIZED)
def initialized(ls: PlanGateServer, params: types.InitializedParams) -> None:
    """The engine and the SDK take over a second to import: load them in the background once
    the client has its `initialize` answer (a thread started earlier would compete with the
    answer for the GIL), so the first session does not wait for them."""
    ls.preload = threading.Thread(target=_preload, daemon=True)
    ls.preload.start()


@server.feature(types.SHUTDOWN)
def shutdown(ls: PlanGateServer, params: None) -> None:
    """Let the background import finish: a daemon thread stopped inside pydantic-core's Rust
    code at interpreter exit aborts the process ("FATAL: exception not rethrown")."""
    if ls.preload is not None:
        ls.preload.join(timeout=30)


def _preload() -> None:
    import plangate.model.factory
    import plangate.workflow.session  # noqa: F401


def _agent_file_diagnostics(ls: PlanGateServer, uri: str) -> None:
    from plangate.lsp import agentfiles

    text = ls.workspace.get_text_document(uri).source
    ls.diagnostics.set(uri, "agent file", agentfiles.diagnostics(uri, text))


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: PlanGateServer, params: types.DidChangeTextDocumentParams) -> None:
    """Agent files are checked as they are typed."""
    from plangate.lsp import agentfiles

    if agentfiles.is_agent_file(params.text_document.uri):
        _agent_file_diagnostics(ls, params.text_document.uri)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def code_action(ls: PlanGateServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Quick fix: a retired or unknown model becomes one PlanGate knows."""
    from plangate.lsp import agentfiles

    uri = params.text_document.uri
    if not agentfiles.is_agent_file(uri):
        return []
    return agentfiles.quick_fixes(uri, ls.workspace.get_text_document(uri).source, params)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: PlanGateServer, params: types.HoverParams) -> types.Hover | None:
    """What a frontmatter key of an agent file means."""
    from plangate.lsp import agentfiles

    uri = params.text_document.uri
    if not agentfiles.is_agent_file(uri):
        return None
    return agentfiles.hover(ls.workspace.get_text_document(uri).source, params.position)


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" "]))
def completion(ls: PlanGateServer, params: types.CompletionParams) -> list[types.CompletionItem]:
    """Tool names and allow / ask / deny in agent files."""
    from plangate.lsp import agentfiles

    uri = params.text_document.uri
    if not agentfiles.is_agent_file(uri):
        return []
    return agentfiles.completions(ls.workspace.get_text_document(uri).source, params.position)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PlanGateServer, params: types.DidOpenTextDocumentParams) -> None:
    """Agent files get their diagnostics; a file the agent may not edit gets an Information
    diagnostic naming the rule."""
    from plangate.lsp import agentfiles

    uri = params.text_document.uri
    if not uri.startswith("file://"):
        return
    if agentfiles.is_agent_file(uri):
        _agent_file_diagnostics(ls, uri)
        return
    if PLAN_DOCUMENT.search(uri):
        _plan_diagnostics(ls, uri)
        return
    path = Path(uri.removeprefix("file://"))
    try:
        from plangate.agents import find_agent
        from plangate.permissions import Action, Policy

        folder = next((f for f in ls.sessions.folders() if path.is_relative_to(f)), None)
        if folder is None:
            return
        agent = find_agent("backend-developer", folder)
        decision = Policy(agent.permission, folder).check_edit(str(path))
    except Exception as exc:
        ls.log(f"diagnostics for {uri}: {exc!r}", "warning")
        return
    diagnostics = []
    if decision.action is Action.DENY:
        diagnostics.append(
            types.Diagnostic(
                range=types.Range(
                    start=types.Position(line=0, character=0),
                    end=types.Position(line=0, character=0),
                ),
                severity=types.DiagnosticSeverity.Information,
                source="plangate",
                message=f"The {agent.name} agent may not edit this file: {decision.reason}",
            )
        )
    ls.diagnostics.set(uri, "policy", diagnostics)


FILE_ITEM = re.compile(r"^- `(?P<path>[^`]+)`$")


def _plan_diagnostics(ls: PlanGateServer, uri: str) -> None:
    """A plan step that targets a path the agent may not edit gets a Warning on its line."""
    match = PLAN_DOCUMENT.search(uri)
    assert match is not None
    try:
        live = ls.sessions.get(match.group("id"))
    except JsonRpcServerError:
        return
    policy = live.session.policy
    diagnostics = []
    for number, line in enumerate(ls.workspace.get_text_document(uri).lines):
        item = FILE_ITEM.match(line.rstrip("\n"))
        if item is None:
            continue
        decision = policy.check_edit(item.group("path"))
        if decision.action.value == "deny":
            diagnostics.append(
                types.Diagnostic(
                    range=types.Range(
                        start=types.Position(line=number, character=0),
                        end=types.Position(line=number, character=len(line)),
                    ),
                    severity=types.DiagnosticSeverity.Warning,
                    source="plangate",
                    message=f"This step targets a path the agent may not edit: {decision.reason}",
                )
            )
    ls.diagnostics.set(uri, "plan", diagnostics)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PlanGateServer, params: types.DidCloseTextDocumentParams) -> None:
    """Nothing to release; registered so openClose sync is advertised."""


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: PlanGateServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    """Buttons on a plan document: approve, revise, skip, reject, roll back, or the status."""
    match = PLAN_DOCUMENT.search(params.text_document.uri)
    if match is None:
        return []
    session_id = match.group("id")
    try:
        summary = ls.sessions.summary(session_id)
    except JsonRpcServerError:
        return []
    document = ls.workspace.get_text_document(params.text_document.uri)
    pending = summary.pending or {}
    lenses: list[types.CodeLens] = []
    for number, line in enumerate(document.lines):
        phase: int | None = None
        if line.startswith("# "):
            phase = 0
        elif (found := PHASE_LINE.match(line)) is not None:
            phase = int(found.group("n"))
        if phase is None:
            continue
        where = types.Range(
            start=types.Position(line=number, character=0),
            end=types.Position(line=number, character=len(line)),
        )
        buttons: list[tuple[str, str, list[Any]]] = []
        if pending.get("phase") == phase and pending.get("kind") in LENS_LABELS:
            labels = LENS_LABELS["plan" if phase == 0 else pending["kind"]]
            for decision in pending["choices"]:
                if decision in labels:
                    button = (labels[decision], "plangate.approvePhase")
                    buttons.append((*button, [session_id, phase, decision, ""]))
        elif phase == 0:
            buttons.append((f"PlanGate: {summary.status}", "plangate.status", [session_id]))
        else:
            info = next((p for p in summary.phases if p.index == phase), None)
            status = info.status if info else "pending"
            label = _status_label(info) if info else status
            buttons.append((label, "plangate.status", [session_id]))
            if status in ("done", "failed"):
                buttons.append(("Roll back", "plangate.rollbackPhase", [session_id, phase]))
        lenses += [
            types.CodeLens(range=where, command=types.Command(title=t, command=c, arguments=a))
            for t, c, a in buttons
        ]
    return lenses


# The buttons of a pending question, by its kind (the choices come from the engine, in order).
LENS_LABELS: dict[str, dict[str, str]] = {
    "plan": {"approve": "Approve plan", "revise": "Revise…", "reject": "Reject"},
    "phase": {"approve": "Approve & run", "revise": "Revise…", "skip": "Skip", "reject": "Reject"},
    "validation": {
        "retry": "Validation failed: Retry",
        "accept": "Accept anyway",
        "rollback": "Roll back",
        "stop": "Stop",
    },
    "loop": {"continue": "Repeated call: Continue", "stop": "Stop"},
    "limit": {"continue": "Budget spent: Continue", "stop": "Stop"},
}


def _status_label(info: PhaseInfo) -> str:
    """A phase's status for its lens: "done · 12 tests passed", "failed · 1 of 5 tests failed"."""
    if info.tests_passed is None or info.status not in ("done", "failed"):
        return info.status  # rolled back or skipped: the counts were of code now undone
    total = info.tests_passed + (info.tests_failed or 0)
    if info.tests_failed:
        return f"{info.status} · {info.tests_failed} of {total} tests failed"
    return f"{info.status} · {total} test{'s' if total != 1 else ''} passed"


# ------------------------------------------------------------------ custom requests


@server.feature("plangate/listAgents")
def list_agents(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Every agent along the search path."""
    from plangate.agents import discover
    from plangate.lsp.protocol import AgentInfo, ListAgentsParams, ListAgentsResult

    request = parse(ListAgentsParams, params)
    folder = ls.sessions.folder(request.workspace_folder)
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
        for a in discover(folder).agents.values()
    ]
    return ListAgentsResult(agents=agents).model_dump(mode="json", by_alias=True)


@server.feature("plangate/proposePlan")
async def propose_plan(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Start a session; answer when its plan is proposed (or it stopped before one)."""
    from plangate.lsp.protocol import ProposePlanParams, ProposePlanResult

    request = parse(ProposePlanParams, params)
    live = ls.sessions.start(request.agent, request.task, request.workspace_folder)
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
        ls.spawn(
            ls.window_show_document_async(
                types.ShowDocumentParams(uri=summary.plan_uri, take_focus=True)
            )
        )
    return ProposePlanResult(
        session_id=summary.session_id,
        plan=plan.model_dump() if plan else None,
        plan_uri=summary.plan_uri,
        status=summary.status,
    ).model_dump(mode="json", by_alias=True)


async def _approve(ls: PlanGateServer, request: ApprovePhaseParams) -> dict[str, Any]:
    from plangate.workflow.approvals import Answer

    live = ls.sessions.get(request.session_id)
    pending = live.approvals.pending
    where = ls.sessions.pending_phase(live)
    if pending is None or where != request.phase:
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
    await asyncio.sleep(0.05)  # let the engine take the answer before we report
    return ls.sessions.summary(request.session_id).model_dump(mode="json", by_alias=True)


@server.feature("plangate/approvePhase")
async def approve_phase(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Answer the pending approval of the plan (phase 0) or a phase."""
    from plangate.lsp.protocol import ApprovePhaseParams

    return await _approve(ls, parse(ApprovePhaseParams, params))


@server.feature("plangate/sessionStatus")
def session_status(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """A session's state."""
    from plangate.lsp.protocol import SessionParams

    request = parse(SessionParams, params)
    return ls.sessions.summary(request.session_id).model_dump(mode="json", by_alias=True)


@server.feature("plangate/listSessions")
def list_sessions(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Sessions of the workspace folders, newest first."""
    from plangate.lsp.protocol import ListSessionsResult

    summaries = []
    for session_id in ls.sessions.all_ids():
        try:
            summaries.append(ls.sessions.summary(session_id))
        except JsonRpcServerError:
            continue
    return ListSessionsResult(sessions=summaries).model_dump(mode="json", by_alias=True)


@server.feature("plangate/cancel")
def cancel(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Cancel a session for good."""
    from plangate.lsp.protocol import SessionParams

    request = parse(SessionParams, params)
    live = ls.sessions.get(request.session_id)
    live.session.cancel("cancelled from the editor")
    if live.task is not None:
        live.task.cancel()
    ls.session_changed(request.session_id)
    return ls.sessions.summary(request.session_id).model_dump(mode="json", by_alias=True)


@server.feature("plangate/rollbackPhase")
def rollback_phase(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Undo a phase from its checkpoint, while the session waits for the user."""
    from plangate.lsp.protocol import RollbackParams

    request = parse(RollbackParams, params)
    live = ls.sessions.get(request.session_id)
    busy = live.task is not None and not live.task.done() and live.approvals.pending is None
    if busy:
        raise server_error(
            "the session is working; roll back when it waits for you", NO_PENDING_APPROVAL
        )
    try:
        live.session.rollback(request.phase)
    except ValueError as exc:
        raise server_error(str(exc), NO_PENDING_APPROVAL) from exc
    ls.session_changed(request.session_id)
    return ls.sessions.summary(request.session_id).model_dump(mode="json", by_alias=True)


@server.feature("plangate/executeTool")
async def execute_tool(ls: PlanGateServer, params: Any) -> dict[str, Any]:
    """Run one tool as the agent would. Outside a running phase the plan gate applies: only
    read-only work runs; inside one, write and edit answer once the user applied or rejected
    the preview."""
    from plangate.lsp.protocol import ExecuteToolParams
    from plangate.lsp.tools import execute

    return await execute(ls, parse(ExecuteToolParams, params))


# ------------------------------------------------------------------ lens commands


def arguments(names: tuple[str, ...], given: tuple[Any, ...], required: int) -> dict[str, Any]:
    """A command's positional arguments as named params (lens commands take the same fields
    as the requests, in order); -32602 when there are too few or too many."""
    if not required <= len(given) <= len(names):
        expected = ", ".join(names[:required]) + (
            f" (then optionally {', '.join(names[required:])})" if len(names) > required else ""
        )
        raise JsonRpcInvalidParams(
            f"invalid params: 'arguments': expected {expected}; got {len(given)} argument(s)"
        )
    return {name: plain(value) for name, value in zip(names, given, strict=False)}


@server.command("plangate.approvePhase")
async def approve_command(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """The lens buttons: sessionId, phase, decision[, feedback], as `plangate/approvePhase`."""
    from plangate.lsp.protocol import ApprovePhaseParams

    names = ("sessionId", "phase", "decision", "feedback")
    request = parse(ApprovePhaseParams, arguments(names, args, 3))
    if request.decision == "revise" and not request.feedback.strip():
        request.feedback = _plan_edits(ls, request.session_id)
        if not request.feedback and not await _revise_without_note(ls, request.phase):
            return ls.sessions.summary(request.session_id).model_dump(mode="json", by_alias=True)
    return await _approve(ls, request)


def _plan_edits(ls: PlanGateServer, session_id: str) -> str:
    """The user's own edits of the plan document, as revision feedback ("" when none)."""
    import difflib

    from plangate.workflow.plan import render_markdown

    live = ls.sessions.get(session_id)
    state = live.session.state
    if state.plan is None:
        return ""
    proposed = render_markdown(state.plan, {i: s.value for i, s in state.phases.items()})
    path = ls.sessions.plan_path(session_id)
    document = ls.workspace.text_documents.get(path.as_uri())
    if document is not None:
        edited = document.source
    elif path.exists():
        edited = path.read_text(encoding="utf-8")
    else:
        return ""
    if edited == proposed:
        return ""
    lines = proposed.splitlines(), edited.splitlines()
    diff = difflib.unified_diff(*lines, "proposed plan", "edited by the user", lineterm="")
    return "The user edited the plan document:\n" + "\n".join(diff)


async def _revise_without_note(ls: PlanGateServer, phase: int) -> bool:
    """No feedback given: say how to give some (LSP has no text input), or revise anyway."""
    what = "the plan" if phase == 0 else f"phase {phase}"
    chosen = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=f"PlanGate: what should change in {what}? Edit the plan document and press "
            "Revise… again, and the model gets your edits; or revise without a note.",
            actions=[types.MessageActionItem(title=t) for t in ("Revise without a note", "Cancel")],
        )
    )
    return chosen is not None and chosen.title == "Revise without a note"


@server.command("plangate.rollbackPhase")
def rollback_command(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """The Roll back lens: sessionId, phase."""
    return rollback_phase(ls, arguments(("sessionId", "phase"), args, 2))


@server.command("plangate.cancel")
def cancel_command(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """Cancel from a command: sessionId."""
    return cancel(ls, arguments(("sessionId",), args, 1))


@server.command("plangate.status")
def status_command(ls: PlanGateServer, *args: Any) -> dict[str, Any]:
    """The status lens: sessionId; shows where the session is."""
    return session_status(ls, arguments(("sessionId",), args, 1))


def serve(tcp: str | None = None) -> None:
    """Run over stdio, or on HOST:PORT."""
    client_log = logs.configure(server)
    server.client_log = client_log
    log.info("plangate %s serving (log file %s)", plangate.__version__, logs.log_file())
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
