"""Sessions the language server runs: started, found again after a restart, summarised."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcServerError

from plangate.layout import Layout
from plangate.lsp.capabilities import declares
from plangate.lsp.errors import UNKNOWN_AGENT, UNKNOWN_SESSION, server_error
from plangate.lsp.params import uri_path

# The engine is imported on first use (the server starts before it is needed).
if TYPE_CHECKING:
    from plangate.agents import Agent
    from plangate.lsp.approvals import LspApprovals
    from plangate.lsp.ports import Host
    from plangate.lsp.protocol import SessionSummary
    from plangate.workflow.events import Shown
    from plangate.workflow.session import Session

OUTPUT_KINDS = {
    "text",
    "thinking",
    "output",
    "retry",
    "tool_started",
    "tool_result",
    "refusal",
    "interrupted",
}
CHANGE_KINDS = {"status", "phase", "plan", "validation", "applied", "rollback", "model_turn"}
# What a rollback undid and how to undo it, or why it was refused: for the user to read.
OUTPUT_KINDS |= {"rollback", "rollback_refused"}


@dataclass
class Live:
    """A session in this server process."""

    session: Session
    approvals: LspApprovals
    task: asyncio.Task[Any] | None = None


class SessionManager:
    """Starts sessions in the background and finds them again by id."""

    def __init__(self, server: Host) -> None:
        self.server = server
        self.live: dict[str, Live] = {}
        self._tokens: dict[str, str] = {}
        self._token_numbers = itertools.count(1)
        self._changes_due: set[str] = set()  # sessions whose sessionChanged is scheduled
        self._told: dict[str, str] = {}  # the last moment told by message, per session

    def folders(self) -> list[Path]:
        """The workspace folders the client opened (the current folder when none)."""
        try:
            folders = list(self.server.workspace.folders.values())
            root = self.server.workspace.root_path
        except RuntimeError:
            return [Path.cwd()]
        paths = [uri_path(f.uri) for f in folders]
        if not paths and root:
            paths = [Path(root)]
        return paths or [Path.cwd()]

    def folder(self, given: str | None) -> Path:
        """The workspace a request is about."""
        if given:
            return uri_path(given).resolve()
        return self.folders()[0].resolve()

    def workspace_of(self, session_id: str) -> Path:
        """The workspace of a live session."""
        return self.get(session_id).session.workspace

    def agent(self, name: str, workspace: Path) -> Agent:
        """An agent by name, or a clear error when it is unknown or broken."""
        from plangate.agents import find_agent

        try:
            agent = find_agent(name, workspace)
        except LookupError as exc:
            raise server_error(str(exc), UNKNOWN_AGENT) from exc
        if agent.errors:
            problems = "; ".join(d.display() for d in agent.errors)
            raise server_error(f"agent '{name}' has errors: {problems}", UNKNOWN_AGENT)
        return agent

    def start(self, agent: Agent, task: str, workspace: Path) -> Live:
        """A new session of `agent` (see `agent`), running in the background until it needs
        the user."""
        live = self._live(agent, workspace, task=task)
        session_id = live.session.state.id
        self.server.log(f"session {session_id} started: {agent.name} in {workspace}")
        # Its first events came before it had an id: the instructions it read go out now, and
        # the analysis progress starts.
        for item in live.session.log.read():
            if item.type == "instructions":
                files = ", ".join(item.data["files"]) or "none"
                text = "\n".join([f"instructions: {files}", *item.data["notes"]])
                self.server.protocol.notify(
                    "plangate/output",
                    {"sessionId": session_id, "kind": "instructions", "text": text},
                )
        self._progress(session_id, {"status": live.session.state.status.value})
        self._run(live)
        return live

    def _live(
        self,
        agent: Agent | str,
        workspace: Path,
        *,
        task: str | None = None,
        session_id: str | None = None,
    ) -> Live:
        """A new session (for `task`) or a reopened one (`session_id`), wired to this server;
        `agent` found by name when not given."""
        from plangate.lsp.approvals import LspApprovals
        from plangate.workflow.launch import open_session  # the SDK loads on first use

        if isinstance(agent, str):
            agent = self.agent(agent, workspace)
        approvals = LspApprovals(self.server)
        # The id is known once the session exists; events before that need no client update.
        session = open_session(
            agent,
            workspace,
            approvals,
            task=task,
            session_id=session_id,
            api_key=self.server.api_key,
            base_url=self.server.base_url,
            on_event=lambda event: self._event(approvals.session_id, event),
        )
        approvals.session_id = session.state.id
        live = Live(session, approvals)
        self.live[session.state.id] = live
        return live

    def _run(self, live: Live) -> None:
        if live.task is not None and not live.task.done():
            return
        live.task = asyncio.create_task(self._drive(live))

    async def _drive(self, live: Live) -> None:
        try:
            await live.session.run()
        except asyncio.CancelledError:
            pass  # cancelled from the editor: the session ends here, and the client is told
        except Exception as exc:  # a session must never take the server down
            self.server.log(f"session {live.session.state.id} stopped: {exc!r}", "error")
            live.session.pause(f"internal error: {exc}")
        self.session_changed(live.session.state.id)

    def get(self, session_id: str) -> Live:
        """A session by id, reopened from its event log if this process has not seen it."""
        from plangate.workflow.session import Session

        live = self.live.get(session_id)
        if live is not None:
            return live
        for folder in self.folders():
            if Session.log_path(folder.resolve(), session_id).exists():
                return self._reopen(folder.resolve(), session_id)
        raise server_error(f"unknown session '{session_id}'", UNKNOWN_SESSION)

    def _reopen(self, workspace: Path, session_id: str) -> Live:
        from plangate.workflow.log import EventLog
        from plangate.workflow.session import Session
        from plangate.workflow.state import TERMINAL, Status, replay

        logged = EventLog(Session.log_path(workspace, session_id)).read()
        agent_name = replay(logged).agent
        live = self._live(agent_name, workspace, session_id=session_id)
        # The warnings on what its denied attempts aimed at, as before a restart.
        for item in logged:
            if item.type == "denied":
                self._denied(session_id, {**item.data, "type": "denied"})
        status = live.session.state.status
        if status not in TERMINAL and status is not Status.PAUSED:
            self._run(live)  # it asks its pending question again
        return live

    def resume(self, session_id: str) -> Live:
        """Run a paused session again from where it stopped. It is rebuilt first, so what
        caused the pause and has been fixed since (the API key or URL the client handed
        over, the agent file) counts; a broken agent file leaves it paused, with the error."""
        from plangate.workflow.state import Status

        live = self.get(session_id)
        if live.session.state.status is not Status.PAUSED or (
            live.task is not None and not live.task.done()
        ):
            return live
        live = self._live(live.session.state.agent, live.session.workspace, session_id=session_id)
        live.session.unpause()  # at once: the reply to the request that resumed it says so
        self._run(live)
        return live

    def ask_again(self, session_id: str) -> None:
        """After the engine moved a waiting session on by itself (a rollback makes the
        rolled-back phase next): the question it waits on is withdrawn, and the session asks
        what it now waits for; a finished session runs again."""
        from plangate.workflow.state import TERMINAL, Status

        live = self.get(session_id)
        state = live.session.state
        pending = live.approvals.pending
        if pending is not None and pending.kind == "phase" and pending.phase_index != state.phase:
            # Its task stops waiting and, in the same task, asks what the session now waits
            # for: nothing is cancelled and restarted.
            live.approvals.supersede()
        if state.status not in TERMINAL and state.status is not Status.PAUSED:
            self._run(live)  # a session that had finished runs again

    def all_ids(self) -> list[str]:
        """Every session of the workspace folders, newest first."""
        ids = set(self.live)
        for folder in self.folders():
            sessions = Layout(folder).sessions
            if sessions.is_dir():
                ids |= {p.name for p in sessions.iterdir() if (p / "events.jsonl").exists()}
        return sorted(ids, reverse=True)

    def pending_phase(self, live: Live) -> int | None:
        """The phase the pending question is about: 0 for the plan, else the phase it names
        or the one running (a repeated call, a spent budget)."""
        from plangate.workflow.state import TERMINAL

        pending = live.approvals.pending
        if pending is None or live.session.state.status in TERMINAL:
            return None
        if pending.kind == "plan":
            return 0
        return pending.phase_index or live.session.state.phase

    def summary(self, session_id: str) -> SessionSummary:
        """A session's state for the editor."""
        from plangate.lsp.protocol import McpServerInfo, PhaseInfo, SessionSummary
        from plangate.workflow.state import TERMINAL

        live = self.get(session_id)
        state = live.session.state
        # A question still held by a session that just ended (cancelled) is not one any more.
        pending = None if state.status in TERMINAL else live.approvals.pending
        model = live.session.model
        plan_path = self.plan_path(state.id)
        return SessionSummary(
            session_id=state.id,
            agent=state.agent,
            task=state.task,
            status=state.status.value,
            reason=state.reason,
            phase=state.phase,
            phases=[
                PhaseInfo(
                    index=i,
                    name=phase.name,
                    status=state.phases[i].value,
                    **_test_counts(state.validations.get(i)),
                )
                for i, phase in enumerate(state.plan.phases if state.plan else [], start=1)
                if i in state.phases
            ],
            pending=None
            if pending is None
            else {
                "kind": pending.kind,
                "title": pending.title,
                "choices": list(pending.choices),
                "phase": self.pending_phase(live),
                # An amendment or a revision: what it changes in the approved plan.
                **({"diff": pending.diff} if pending.diff else {}),
            },
            plan_uri=plan_path.as_uri() if plan_path.exists() else None,
            usage=state.total_usage.model_dump(),
            cost_usd=round(state.usage.cost(model), 6) if model else None,
            mcp_servers=[McpServerInfo.model_validate(s) for s in state.mcp.values()],
        )

    def session_changed(self, session_id: str) -> None:
        """Tell the client, and refresh the plan's lenses."""
        if not session_id:
            return
        try:
            summary = self.summary(session_id)
        except JsonRpcServerError:
            return
        params = summary.model_dump(mode="json", by_alias=True)
        self.server.protocol.notify("plangate/sessionChanged", params)
        if not declares(self.server.client_capabilities, "sessionChanged"):
            self._tell(session_id, summary)
        self.server.refresh_lenses()

    def _tell(self, session_id: str, summary: SessionSummary) -> None:
        """The moment, as a message, for a client that does not handle sessionChanged; once."""
        from plangate.lsp.milestones import milestone

        found = milestone(summary)
        if found is None or self._told.get(session_id) == found[1]:
            return
        self._told[session_id] = found[1]
        self.server.protocol.notify(
            types.WINDOW_SHOW_MESSAGE, types.ShowMessageParams(type=found[0], message=found[1])
        )

    def plan_path(self, session_id: str) -> Path:
        """Where a session's plan document is (it exists once a plan was proposed)."""
        return self.get(session_id).session.plan_document()

    def _denied(self, session_id: str, record: dict[str, Any]) -> None:
        """A Warning on what a denied attempt aimed at (the file, or the phase in the plan)."""
        from plangate.lsp.diagnostics import attempt

        uri, diagnostic = attempt(record, self.workspace_of(session_id), self.plan_path(session_id))
        self.server.diagnostics.add(uri, "attempts", diagnostic)

    def _progress(self, session_id: str, data: dict[str, Any]) -> None:
        """Work-done progress while a phase runs or is validated (ended on the next status)."""
        window = self.server.client_capabilities.window
        if not (window and window.work_done_progress):
            return
        previous = self._tokens.pop(session_id, None)
        if previous is not None:
            self.server.work_done_progress.end(previous, types.WorkDoneProgressEnd())
        status = data.get("status")
        if status not in ("analysing", "running", "validating", "documenting"):
            return
        token = f"plangate-{session_id}-{next(self._token_numbers)}"
        self._tokens[session_id] = token
        title = f"PlanGate: {status}" + (f" phase {data['phase']}" if data.get("phase") else "")

        async def begin() -> None:
            await self.server.work_done_progress.create_async(token)
            self.server.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title))

        self.server.spawn(begin())

    def _event(self, session_id: str, event: Shown) -> None:
        if not session_id:  # while Session.start builds it: nothing to tell the client yet
            return
        kind, data = event.type, event.model_dump(mode="json")
        if kind == "denied":
            self._denied(session_id, data)
        if kind == "status":
            self._progress(session_id, data)
        if kind == "mcp":
            # A server that did not start is news; one that did is in the output.
            said = data["error"] or f"MCP server {data['name']}: {', '.join(data['tools'])}"
            self.server.protocol.notify(
                "plangate/output", {"sessionId": session_id, "kind": kind, "text": said}
            )
            if data["error"]:
                self.server.protocol.notify(
                    types.WINDOW_SHOW_MESSAGE,
                    types.ShowMessageParams(
                        type=types.MessageType.Warning, message=f"PlanGate: {data['error']}"
                    ),
                )
        if kind in OUTPUT_KINDS:
            text = (
                data.get("text")
                or data.get("message")
                or data.get("name")
                or data.get("explanation")
                or ""
            )
            self.server.protocol.notify(
                "plangate/output", {"sessionId": session_id, "kind": kind, "text": str(text)}
            )
        if kind == "interrupted":
            # Work lost to a restart is news the user should not have to find in the output.
            self.server.protocol.notify(
                types.WINDOW_SHOW_MESSAGE,
                types.ShowMessageParams(
                    type=types.MessageType.Warning, message=f"PlanGate: {data['message']}"
                ),
            )
        if kind in CHANGE_KINDS:
            self._changed_soon(session_id)

    def _changed_soon(self, session_id: str) -> None:
        """One sessionChanged for the events of one step: a phase that ends records its
        result, its status and the session's in a row, and the editor needs the last."""
        if session_id in self._changes_due:
            return
        self._changes_due.add(session_id)

        def send() -> None:
            self._changes_due.discard(session_id)
            self.session_changed(session_id)

        asyncio.get_running_loop().call_soon(send)


def _test_counts(attempts: list[list[dict[str, Any]]] | None) -> dict[str, int]:
    """Tests passed and failed in a phase's last validation, when its checks counted them."""
    if not attempts:
        return {}
    counted = [r for r in attempts[-1] if r.get("passed_count") is not None]
    if not counted:
        return {}
    return {
        "tests_passed": sum(r["passed_count"] or 0 for r in counted),
        "tests_failed": sum(r.get("failed_count") or 0 for r in counted),
    }
