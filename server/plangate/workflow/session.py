"""The session engine: analyse, plan, approve, phase by phase, validate, document.

Every rule of the seed is enforced here, in code: before the plan is approved only read-only
work runs; a phase runs only after the user approves it; deny is final; ask goes to the user;
edits are proposals the user applies; each phase is validated and checkpointed. The engine
knows nothing of LSP or terminals: it asks its `Approvals` port and reports through `on_event`.
State is the replay of the event log, so `Session.open` after a crash resumes exactly where the
user was.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from plangate.agents import Agent
from plangate.model.catalog import ModelInfo
from plangate.model.context import (
    estimate_tokens,
    fit_to_window,
    truncate_tool_result,
    usable_window,
    with_elisions,
)
from plangate.model.types import (
    ModelRequestError,
    ModelUnavailable,
    PromptTooLong,
    Provider,
    RetryWait,
    TextDelta,
    ThinkingDelta,
    TurnDone,
    TurnRequest,
)
from plangate.model.usage import Usage
from plangate.permissions import Action, Decision, Policy
from plangate.tools import Tool, ToolContext, tools_for
from plangate.tools.base import Confirm
from plangate.tools.changes import ApplyError, ProposedChange, apply_once
from plangate.tools.ledger import FileStamp, ReadLedger, ReadRecord
from plangate.workflow.approvals import Answer, Approvals, Question, question
from plangate.workflow.checkpoints import Checkpoints
from plangate.workflow.events import EventLog
from plangate.workflow.plan import PLAN_TOOL_DESCRIPTION, Plan, render_markdown
from plangate.workflow.state import TERMINAL, PhaseStatus, SessionState, Status, replay
from plangate.workflow.validation import CheckResult, detect_checks, result_for, summarize

EventSink = Callable[[str, dict[str, Any]], None]
MAX_FIX_ATTEMPTS = 3
MAX_NUDGES = 2
REPEAT_LIMIT = 3
MAX_CONTEXT_RETRIES = 2
MAX_TRUNCATIONS = 3  # cut answers in a row before the session stops spending on them
THINKING = ("thinking", "redacted_thinking")

RULES = """

---
PlanGate enforces this workflow; the tools tell you when something is refused and why:
1. Analyse first with read-only tools (read, grep, glob, list, read-only bash commands). Files
   cannot be changed and other commands do not run until the user approves your plan.
2. Propose the plan with the propose_plan tool. The user approves, asks for revisions, or rejects.
3. Phases run one at a time, each only after the user approves it. Work only on the approved
   phase; call complete_phase with a summary when it is done. Its files are validated (tests,
   type checks, build, lint) and failures come back to you to fix.
4. write and edit propose changes the user reviews; the result tells you if they were applied.
5. Denied commands and paths are final; significant commands are shown to the user first.
"""


class CompletePhase(BaseModel):
    """End the current phase."""

    summary: str = Field(min_length=1, description="What was done in this phase, for the user")


def _workflow_tools() -> list[dict[str, Any]]:
    return [
        {
            "name": "propose_plan",
            "description": PLAN_TOOL_DESCRIPTION,
            "input_schema": Plan.model_json_schema(),
        },
        {
            "name": "complete_phase",
            "description": "Finish the phase the user approved, with a summary; PlanGate then "
            "validates it. The next phase starts only when the user approves it.",
            "input_schema": CompletePhase.model_json_schema(),
        },
    ]


class Session:
    """One task for one agent in one workspace."""

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
        self.on_event = on_event or (lambda _kind, _data: None)
        self.validation_commands = validation_commands or []
        self.policy = Policy(agent.permission, self.workspace)
        self.tools: dict[str, Tool[Any]] = {tool.name: tool for tool in tools_for(agent)}
        self.checkpoints = Checkpoints(self.workspace)
        self.state = replay(log.read())
        self.ledger = ReadLedger()
        for path, stamp in self.state.reads.items():
            self.ledger.records[path] = ReadRecord(FileStamp.model_validate(stamp), 0.0)

    # ---------------------------------------------------------------- lifecycle

    @staticmethod
    def log_path(workspace: Path, session_id: str) -> Path:
        """Where a session's events live."""
        return workspace / ".plangate" / "sessions" / session_id / "events.jsonl"

    @classmethod
    def start(
        cls,
        agent: Agent,
        workspace: Path,
        task: str,
        provider: Provider,
        approvals: Approvals,
        **kwargs: Any,
    ) -> Session:
        """A new session for `task`."""
        session_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        log = EventLog(cls.log_path(workspace.resolve(), session_id))
        session = cls(agent, workspace, provider, approvals, log, **kwargs)
        model_id = session.model.id if session.model else (agent.model_id or "")
        session._emit(
            "started", {"id": session_id, "agent": agent.name, "task": task, "model": model_id}
        )
        session._emit("message", {"role": "user", "content": task})
        session._emit("status", {"status": Status.ANALYSING})
        return session

    @classmethod
    def open(
        cls,
        agent: Agent,
        workspace: Path,
        session_id: str,
        provider: Provider,
        approvals: Approvals,
        **kwargs: Any,
    ) -> Session:
        """An existing session, rebuilt from its event log."""
        path = cls.log_path(workspace.resolve(), session_id)
        if not path.exists():
            raise FileNotFoundError(f"no session {session_id} in {workspace}")
        return cls(agent, workspace, provider, approvals, EventLog(path), **kwargs)

    def cancel(self, reason: str = "cancelled by the user") -> None:
        """Stop the session for good (a finished session keeps how it ended)."""
        if self.state.status not in TERMINAL:
            self._emit("status", {"status": Status.CANCELLED, "reason": reason})

    async def resume(self) -> SessionState:
        """Continue a paused session where it stopped."""
        if self.state.status is Status.PAUSED:
            self._emit(
                "status", {"status": self.state.resume_to or Status.ANALYSING, "reason": "resumed"}
            )
        return await self.run()

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        event = self.log.append(kind, json.loads(json.dumps(data, default=_jsonable)))
        self.state.apply(event)
        self.on_event(kind, event.data)

    # ---------------------------------------------------------------- the loop

    async def run(self) -> SessionState:
        """Drive the session until it completes, pauses, fails or is cancelled."""
        while True:
            state = self.state
            if state.status in TERMINAL or state.status is Status.PAUSED:
                return state
            if state.tool_calls_answered:
                # First, always: the API wants every tool_use answered by tool_result blocks
                # at the start of the very next user message, before any other text.
                self._send_results()
            elif state.status is Status.PLAN_PROPOSED:
                await self._ask_plan()
            elif state.status is Status.AWAITING_PHASE:
                await self._ask_phase()
            elif state.status is Status.VALIDATING:
                await self._validate()
            elif state.open_tool_calls:
                await self._run_tools()
            else:
                await self._model_turn()

    # ---------------------------------------------------------------- questions

    def _question_id(self, prefix: str) -> str:
        """The id of the open question with this prefix (asked again after a restart), or a
        new one."""
        ids = [qid for qid in self.state.questions if qid.startswith(prefix + "#")]
        if ids and ids[-1] not in self.state.answers:
            return ids[-1]
        return f"{prefix}#{len(ids) + 1}"

    async def _ask(self, q: Question) -> Answer:
        known = self.state.answers.get(q.id)
        if known is not None:
            return known
        if q.id not in self.state.questions:
            self._emit("question", q.model_dump(mode="json"))
        answer = await self.approvals.ask(self.state.questions[q.id])
        if answer.choice not in q.choices:
            raise ValueError(f"answer {answer.choice!r} is not one of {', '.join(q.choices)}")
        self._emit("answer", {"id": q.id, "answer": answer.model_dump()})
        return answer

    # ---------------------------------------------------------------- model turns

    def _system(self) -> str:
        return self.agent.prompt + RULES

    def _tool_specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self.tools.values()] + _workflow_tools()

    def _request(self) -> TurnRequest:
        """The next request: the conversation as the API must see it.

        Tool results the context manager cleared are replaced by a note, and thinking
        blocks written by another model (the agent's model changed) are dropped, as the
        thinking docs require; the conversation's cache TTL follows who answers."""
        state = self.state
        messages = with_elisions(state.messages, state.elided)
        model_id = self.model.id if self.model else state.model
        messages = [
            _without_thinking(m)
            if m["role"] == "assistant" and state.producers.get(i, model_id) != model_id
            else m
            for i, m in enumerate(messages)
        ]
        ttl: Literal["5m", "1h"] = "1h" if self.approvals.person else "5m"
        return TurnRequest(self._system(), messages, self._tool_specs(), ttl)

    async def _fit(self, request: TurnRequest) -> TurnRequest:
        """The request, with old tool results cleared first if it nears the window."""
        state = self.state
        if self.model is None:
            return request
        sent = len(json.dumps(request.messages))
        estimate = (
            state.last_prompt_tokens + (sent - state.last_prompt_chars) // 4
            if state.last_prompt_tokens
            else estimate_tokens([request.system, request.tools, request.messages])
        )
        usable = usable_window(self.model.context_window, self.model.max_output)
        fit = await fit_to_window(
            request, self.provider, usable, estimate, force=state.context_exceeded > 0
        )
        if not fit.elided and not state.context_exceeded:
            return request
        self._emit("context", {"elided": fit.elided, "before": fit.before, "after": fit.after})
        return self._request()

    async def _model_turn(self) -> None:
        state = self.state
        if state.messages and state.messages[-1]["role"] == "assistant":
            # A turn recorded just before a restart: follow it up, never send it as prefill.
            self._follow_up(TurnDone(state.messages[-1], state.last_stop_reason, Usage()))
            return
        if self.agent.steps is not None and state.turns >= self.agent.steps:
            answer = await self._ask(
                question(
                    "limit",
                    self._question_id(f"steps:{state.turns}"),
                    f"The agent has used its {self.agent.steps} steps. Continue?",
                )
            )
            if answer.choice == "stop":
                self.pause(f"step limit of {self.agent.steps} model turns reached")
                return
        if self.budget_usd is not None and self.model is not None:
            spent = state.usage.cost(self.model)
            if spent >= self.budget_usd:
                self.pause(f"budget of ${self.budget_usd:.2f} reached (${spent:.2f} spent)")
                return
        done: TurnDone | None = None
        try:
            request = await self._fit(self._request())
            async for event in self.provider.stream_turn(request):
                if isinstance(event, TextDelta):
                    self.on_event("text", {"text": event.text})
                elif isinstance(event, ThinkingDelta):
                    self.on_event("thinking", {"text": event.text})
                elif isinstance(event, RetryWait):
                    self.on_event("retry", {"message": event.message, "delay": event.delay})
                elif isinstance(event, TurnDone):
                    done = event
        except ModelUnavailable as exc:
            self.pause(str(exc))
            return
        except PromptTooLong as exc:
            self._context_exceeded(str(exc), Usage())
            return
        except ModelRequestError as exc:
            self._emit("status", {"status": Status.FAILED, "reason": str(exc)})
            return
        assert done is not None
        if done.stop_reason == "model_context_window_exceeded":
            self._context_exceeded("the model's context window was exceeded", done.usage)
            return
        if done.stop_reason == "refusal":
            self._refused(done)
            return
        content = _kept_content(done.message["content"])
        self._emit(
            "model_turn",
            {
                "message": {"role": "assistant", "content": content},
                "usage": done.usage.model_dump(),
                "stop_reason": done.stop_reason,
                "model": self.model.id if self.model else state.model,
                "prompt_chars": len(json.dumps(request.messages)),
            },
        )
        self._follow_up(done)

    def _context_exceeded(self, why: str, usage: Usage) -> None:
        """The prompt did not fit: nothing of the turn is kept (a cut-off tool call never
        runs); the next turn clears old tool results first. Pauses if clearing cannot help."""
        if self.state.context_exceeded >= MAX_CONTEXT_RETRIES:
            self.pause(f"{why}, and clearing old tool results did not help")
            return
        self._emit("context", {"exceeded": why, "usage": usage.model_dump()})

    def _refused(self, done: TurnDone) -> None:
        """The model declined: the user sees why, and the session waits for them."""
        details = done.stop_details or {}
        category = details.get("category")
        explanation = details.get("explanation") or done.text.strip()[:300]
        self._emit("refusal", {"category": category, "explanation": explanation})
        label = f" ({category})" if category else ""
        self.pause(
            f"the model refused{label}: {explanation or 'no explanation given'}. "
            "Change the task or the plan, then resume or cancel."
        )

    def _follow_up(self, done: TurnDone) -> None:
        """What comes after a recorded turn that called no tools."""
        if done.truncated and self.state.truncations >= MAX_TRUNCATIONS:
            self.pause(
                f"the model's answers were cut by the output limit {MAX_TRUNCATIONS} times in a row"
            )
        elif done.truncated:
            self._user(
                "Your answer was cut by the output limit"
                + (
                    "; its last tool call was incomplete and did not run"
                    if done.stop_reason == "max_tokens" and not done.tool_calls
                    else ""
                )
                + ". Continue, and split large changes into several smaller edits."
            )
        elif not done.tool_calls:
            self._no_tool_calls(done)

    def _no_tool_calls(self, done: TurnDone) -> None:
        """The model ended its turn without calling a tool."""
        state = self.state
        if state.status is Status.ANALYSING:
            nudges = sum(
                1
                for q in state.messages
                if q["role"] == "user"
                and any("Call propose_plan" in b.get("text", "") for b in q["content"])
            )
            if nudges >= MAX_NUDGES:
                self._emit(
                    "status",
                    {"status": Status.FAILED, "reason": "the model did not propose a plan"},
                )
            else:
                self._user(
                    "Call propose_plan with your plan when your analysis is done; "
                    "nothing can be changed before the user approves it."
                )
        else:  # a phase's work ended in text: treat it as the phase's completion
            self._emit(
                "phase",
                {
                    "index": state.phase,
                    "status": PhaseStatus.VALIDATING,
                    "summary": done.text[:2000],
                },
            )
            self._emit("status", {"status": Status.VALIDATING, "phase": state.phase})

    def _user(self, text: str) -> None:
        self._emit("message", {"role": "user", "content": text})

    def pause(self, reason: str) -> None:
        """Stop for now; `resume` continues exactly here."""
        if self.state.status not in TERMINAL and self.state.status is not Status.PAUSED:
            self._emit("status", {"status": Status.PAUSED, "reason": reason})

    # ---------------------------------------------------------------- tools

    def _send_results(self) -> None:
        calls = [b for b in self.state.messages[-1]["content"] if b["type"] == "tool_use"]
        blocks = []
        for call in calls:
            result = self.state.results[call["id"]]
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": call["id"],
                "content": result["text"] or "(no output)",
            }
            if result["is_error"]:
                block["is_error"] = True
            blocks.append(block)
        self._emit("message", {"role": "user", "content": blocks})

    def _result(self, call_id: str, text: str, *, error: bool = False, **extra: Any) -> None:
        self._emit("tool_result", {"id": call_id, "text": text, "is_error": error, **extra})

    async def _run_tools(self) -> None:
        for call in self.state.open_tool_calls:
            if call["name"] == "propose_plan":
                self._propose(call)
                return
            if call["name"] == "complete_phase":
                self._complete(call)
                return
            await self._execute(call)

    def _refuse_before_approval(self, call: dict[str, Any]) -> str | None:
        """Why a call may not run before the plan is approved, or None."""
        if self.state.status is not Status.ANALYSING:
            return None
        tool = self.tools.get(call["name"])
        if tool is not None and tool.permission == "edit":
            return (
                f"Refused: {call['name']} changes files, and nothing may change before the "
                "user approves the plan. Finish the analysis and call propose_plan."
            )
        if call["name"] == "bash":
            decision = self.policy.check_bash(str(call["input"].get("command", "")))
            if decision.action is not Action.ALLOW or not decision.read_only:
                return (
                    "Refused: before the plan is approved only read-only commands run "
                    f"(this one is '{decision.action.value}': {decision.reason}). Use read, "
                    "grep, glob and list to analyse, then call propose_plan."
                )
        return None

    def _repeated(self, call: dict[str, Any]) -> bool:
        """The same tool with the same input as the previous calls, REPEAT_LIMIT times in a row."""
        calls = [
            b
            for m in self.state.messages
            if m["role"] == "assistant"
            for b in m["content"]
            if b["type"] == "tool_use"
        ]
        index = next(i for i, b in enumerate(calls) if b["id"] == call["id"])
        recent = calls[max(0, index - REPEAT_LIMIT + 1) : index + 1]
        key = (call["name"], json.dumps(call["input"], sort_keys=True))
        return len(recent) == REPEAT_LIMIT and all(
            (b["name"], json.dumps(b["input"], sort_keys=True)) == key for b in recent
        )

    async def _execute(self, call: dict[str, Any]) -> None:
        call_id, name = call["id"], call["name"]
        if call_id in self.state.started and name == "bash":
            # It was running when PlanGate stopped: running it again could repeat its effects.
            self._result(
                call_id,
                "This command was interrupted when PlanGate restarted; it "
                "may or may not have completed. Check its effects before running it "
                "again.",
                error=True,
            )
            return
        self._emit("tool_started", {"id": call_id, "name": name})
        refusal = self._refuse_before_approval(call)
        if refusal is not None:
            self._denied(call, self._deny_record(call))
            self._result(call_id, refusal, error=True)
            return
        if self._repeated(call):
            answer = await self._ask(
                question(
                    "loop",
                    f"loop:{call_id}#1",
                    f"The agent called {name} with the same input {REPEAT_LIMIT} times in a row. "
                    "Let it continue?",
                    command=json.dumps(call["input"])[:500],
                )
            )
            if answer.choice == "stop":
                self._result(
                    call_id,
                    "Stopped by the user: this exact call was repeated "
                    f"{REPEAT_LIMIT} times. Try something different. {answer.feedback}",
                    error=True,
                )
                return
        tool = self.tools.get(name)
        if tool is None:
            self._result(call_id, f"Unknown tool {name!r}.", error=True)
            return
        ctx = self._context(call_id)
        if name in ("write", "edit"):
            await self._propose_change(call, tool, ctx)
            return
        result = await tool.run(call["input"], ctx)
        self._denied(call, result.data.get("denied"))
        text = truncate_tool_result(result.text, self.log.path.parent / "results")
        extra: dict[str, Any] = {}
        if name == "read" and not result.is_error:
            path = str((self.workspace / str(result.data.get("path", ""))).resolve())
            record = self.ledger.get(Path(path))
            if record is not None:
                extra["read"] = {"path": path, "stamp": record.stamp.model_dump()}
        self._result(call_id, text, error=result.is_error, **extra)

    def _deny_record(self, call: dict[str, Any]) -> dict[str, Any] | None:
        """What a deny rule says of a call refused before it ran (None: no rule denies it)."""
        tool = self.tools.get(call["name"])
        if call["name"] == "bash":
            kind, target = "command", str(call["input"].get("command", ""))
            decision = self.policy.check_bash(target)
        elif tool is not None and tool.permission == "edit":
            kind, target = "edit", str(call["input"].get("file_path", ""))
            decision = self.policy.check_edit(target)
        else:
            return None
        if decision.action is not Action.DENY:
            return None
        return {"kind": kind, "target": target, **decision.to_json()}

    def _denied(self, call: dict[str, Any], record: dict[str, Any] | None) -> None:
        """An attempt a deny rule refused, for the editor to show where it was aimed."""
        if record is not None:
            self._emit(
                "denied",
                {**record, "tool": call["name"], "phase": self.state.phase, "at": time.time()},
            )

    def confirmer(self, key: str) -> Confirm:
        """How a tool asks the user about an 'ask' command: each question recorded under `key`
        (a tool call's id: unique in the session), answers for the session remembered."""
        counter = itertools.count(1)

        async def confirm(what: str, decision: Decision) -> bool:
            if what in self.state.allowed:
                return True
            answer = await self._ask(
                question(
                    "permission",
                    f"permission:{key}:{next(counter)}#1",
                    f"Allow `{what}`? {decision.reason}",
                    command=what,
                    decision=decision,
                )
            )
            return answer.choice in ("once", "session")

        return confirm

    def _context(self, call_id: str) -> ToolContext:
        phase_files = None
        if self.state.plan is not None and self.state.status in (
            Status.RUNNING,
            Status.DOCUMENTING,
        ):
            phase_files = frozenset(self.state.plan.phases[self.state.phase - 1].files)

        return ToolContext(
            workspace=self.workspace,
            policy=self.policy,
            ledger=self.ledger,
            confirm=self.confirmer(call_id),
            on_output=lambda stream, text: self.on_event("output", {"text": text}),
            phase_files=phase_files,
            network=self.agent.network,
        )

    async def _propose_change(
        self, call: dict[str, Any], tool: Tool[Any], ctx: ToolContext
    ) -> None:
        call_id = call["id"]
        qid = f"edit:{call_id}#1"
        asked = self.state.questions.get(qid)
        if asked is not None and asked.change is not None:
            change = asked.change  # replay the proposal the user saw, never a new one
        else:
            result = await tool.run(call["input"], ctx)
            if result.is_error:
                self._denied(call, result.data.get("denied"))
                self._result(call_id, result.text, error=True)
                return
            change = ProposedChange.model_validate(result.data["change"])
        where = "" if change.in_phase is not False else " (not declared by this phase)"
        answer = await self._ask(
            question(
                "edit",
                qid,
                f"Apply the change to {change.path}{where}?",
                change=change,
                phase_index=self.state.phase or None,
            )
        )
        if answer.choice == "reject":
            self._result(
                call_id,
                f"The user rejected the change to {change.path}. {answer.feedback}".strip(),
                error=True,
            )
            return
        if call_id not in self.state.applied:
            try:
                target = apply_once(change, self.workspace, self.policy)
            except ApplyError as exc:
                self._result(call_id, f"The change could not be applied: {exc}", error=True)
                return
            self._emit("applied", {"id": call_id, "path": change.path})
            stamp = FileStamp.of(target)
            if stamp is not None:  # the agent knows this content: it may edit it again
                self.ledger.record(target, stamp)
                self._result(
                    call_id,
                    f"Applied the change to {change.path}. {answer.feedback}".strip(),
                    read={"path": str(target), "stamp": stamp.model_dump()},
                )
                return
        self._result(call_id, f"Applied the change to {change.path}. {answer.feedback}".strip())

    # ---------------------------------------------------------------- plan and phases

    def _plan_path(self) -> Path:
        return self.workspace / ".plangate" / "plans" / f"{self.state.id}.md"

    def _write_plan(self) -> None:
        if self.state.plan is None:
            return
        path = self._plan_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        statuses = {i: s.value for i, s in self.state.phases.items()}
        path.write_text(render_markdown(self.state.plan, statuses), encoding="utf-8")

    def _propose(self, call: dict[str, Any]) -> None:
        if self.state.status is not Status.ANALYSING:
            self._result(
                call["id"],
                "The plan is already approved; work on the approved phase "
                "and call complete_phase when it is done.",
                error=True,
            )
            return
        try:
            plan = Plan.model_validate(call["input"]).with_documentation()
        except ValidationError as exc:
            errors = "\n".join(
                f"- {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            self._result(
                call["id"],
                f"The plan is invalid:\n{errors}\nFix it and call propose_plan again.",
                error=True,
            )
            return
        self._emit("plan", {"plan": plan.model_dump(), "version": self.state.plan_version + 1})
        self._emit("status", {"status": Status.PLAN_PROPOSED})
        self._write_plan()

    def _open_call(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.state.open_tool_calls if c["name"] == name), None)

    def _close_others(self, keep: str) -> None:
        for call in self.state.open_tool_calls:
            if call["id"] != keep:
                self._result(
                    call["id"], "Not run: it came after a step that needed the user.", error=True
                )

    async def _ask_plan(self) -> None:
        state = self.state
        assert state.plan is not None
        call = self._open_call("propose_plan")
        answer = await self._ask(
            question(
                "plan",
                f"plan:{state.plan_version}#1",
                f"Approve the plan '{state.plan.title}'?",
                plan=state.plan,
                document=str(self._plan_path()),
            )
        )
        call_id = call["id"] if call else ""
        if answer.choice == "approve":
            text = (
                "The user approved the plan. Each phase starts only when the user approves "
                "it; you will be told."
            )
            next_status = {"status": Status.AWAITING_PHASE, "phase": max(1, state.phase)}
        elif answer.choice == "revise":
            text = (
                f"The user asks for changes to the plan:\n{answer.feedback}\nRevise it and "
                "call propose_plan again."
            )
            next_status = {"status": Status.ANALYSING}
        else:
            text = f"The user rejected the plan. {answer.feedback}".strip()
            next_status = {
                "status": Status.CANCELLED,
                "reason": f"plan rejected: {answer.feedback}".strip(": "),
            }
        if call is not None:
            self._result(call_id, text)
            self._close_others(call_id)
        else:
            self._user(text)
        self._emit("status", next_status)

    async def _ask_phase(self) -> None:
        state = self.state
        assert state.plan is not None
        index = state.phase
        if index > len(state.plan.phases):
            self._emit("status", {"status": Status.COMPLETED, "reason": "every phase is done"})
            self._write_plan()
            return
        phase = state.plan.phases[index - 1]
        answer = await self._ask(
            question(
                "phase",
                self._question_id(f"phase:{index}"),
                f"Start phase {index}: {phase.name}?",
                phase_index=index,
                phase=phase,
            )
        )
        if answer.choice == "approve":
            # git takes a while on big trees: keep the event loop (an editor's server) free.
            commit = await asyncio.to_thread(
                self.checkpoints.snapshot, f"before phase {index}: {phase.name}"
            )
            self._emit("checkpoint", {"phase": index, "commit": commit})
            self._emit("phase", {"index": index, "status": PhaseStatus.RUNNING, "attempt": 1})
            files = ", ".join(phase.files) or "none declared"
            self._user(
                f"Phase {index} ({phase.name}) is approved. Implement only this phase: "
                f"{phase.goal}. Files: {files}. {answer.feedback} When it is done, call "
                "complete_phase with a summary.".replace("  ", " ")
            )
            last = index == len(state.plan.phases) and phase.name.lower().startswith("doc")
            self._emit(
                "status", {"status": Status.DOCUMENTING if last else Status.RUNNING, "phase": index}
            )
        elif answer.choice == "revise":
            self._user(
                f"The user wants phase {index} ({phase.name}) revised:\n"
                f"{answer.feedback}\nCall propose_plan with the revised plan."
            )
            self._emit("status", {"status": Status.ANALYSING})
        elif answer.choice == "skip":
            self._emit("phase", {"index": index, "status": PhaseStatus.SKIPPED})
            self._user(f"The user skipped phase {index} ({phase.name}).")
            self._emit("status", {"status": Status.AWAITING_PHASE, "phase": index + 1})
        elif answer.choice == "rollback":
            self._rollback_latest(index)
        else:
            self._emit(
                "status",
                {
                    "status": Status.CANCELLED,
                    "reason": f"phase {index} rejected: {answer.feedback}".strip(": "),
                },
            )
        self._write_plan()

    def _rollback_latest(self, before: int) -> None:
        done = [
            i
            for i in sorted(self.state.checkpoints)
            if i < before and self.state.phases.get(i) in (PhaseStatus.DONE, PhaseStatus.FAILED)
        ]
        if not done:
            self._user("Nothing to roll back yet.")
            return
        self.rollback(done[-1])

    def rollback(self, index: int) -> list[str]:
        """Undo phase `index`'s changes from its checkpoint; the rollback is recorded."""
        commit = self.state.checkpoints.get(index)
        if commit is None:
            raise ValueError(f"phase {index} has no checkpoint")
        paths = self.checkpoints.restore(commit)
        self._emit("rollback", {"phase": index, "paths": paths})
        self._emit("phase", {"index": index, "status": PhaseStatus.ROLLED_BACK})
        self._user(
            f"The user rolled back phase {index}: its changes are undone "
            f"({', '.join(paths) or 'no files'})."
        )
        self._write_plan()
        return paths

    def _complete(self, call: dict[str, Any]) -> None:
        if self.state.status not in (Status.RUNNING, Status.DOCUMENTING):
            self._result(
                call["id"],
                "No phase is running: propose the plan and wait for the user to approve a phase.",
                error=True,
            )
            return
        summary = call["input"].get("summary")
        # A missing or odd summary must not stop the phase: the model gets on with validation.
        params = CompletePhase(
            summary=summary if isinstance(summary, str) and summary.strip() else "(no summary)"
        )
        self._emit(
            "phase",
            {
                "index": self.state.phase,
                "status": PhaseStatus.VALIDATING,
                "summary": params.summary,
            },
        )
        self._emit("status", {"status": Status.VALIDATING, "phase": self.state.phase})

    async def _validate(self) -> None:
        state = self.state
        assert state.plan is not None
        index = state.phase
        attempt = state.attempts.get(index, 1)
        results = await self._run_checks(index, attempt)
        self._emit(
            "validation",
            {
                "phase": index,
                "attempt": attempt,
                "results": [r.model_dump(mode="json") for r in results],
            },
        )
        call = self._open_call("complete_phase")
        failed = [r for r in results if not r.passed]
        summary = summarize(results) if results else "no checks found"
        if not failed:
            self._finish_phase(call, index, f"Phase {index} is done. Validation:\n{summary}")
            return
        details = "\n\n".join(f"$ {r.check.command}\n{r.output_tail[-3000:]}" for r in failed)
        if attempt < MAX_FIX_ATTEMPTS:
            self._phase_feedback(
                call,
                f"Validation failed (attempt {attempt} of "
                f"{MAX_FIX_ATTEMPTS}):\n{summary}\n\n{details}\n\nFix it within "
                "this phase, then call complete_phase again.",
            )
            self._emit(
                "phase", {"index": index, "status": PhaseStatus.RUNNING, "attempt": attempt + 1}
            )
            self._emit("status", {"status": self._running(index), "phase": index})
            return
        answer = await self._ask(
            question(
                "validation",
                self._question_id(f"validation:{index}"),
                f"Phase {index} still fails validation after {attempt} attempts.",
                phase_index=index,
                results=[r.model_dump(mode="json") for r in results],
            )
        )
        if answer.choice == "retry":
            self._phase_feedback(
                call,
                f"Validation failed:\n{summary}\n\n{details}\n\nThe user "
                f"asks you to try again. {answer.feedback}".strip(),
            )
            self._emit("phase", {"index": index, "status": PhaseStatus.RUNNING, "attempt": 1})
            self._emit("status", {"status": self._running(index), "phase": index})
        elif answer.choice == "accept":
            self._finish_phase(
                call,
                index,
                f"The user accepted phase {index} although validation failed:\n{summary}",
            )
        elif answer.choice == "rollback":
            self._phase_feedback(call, "The user rolled this phase back.")
            self._emit("phase", {"index": index, "status": PhaseStatus.FAILED})
            self.rollback(index)
            self._emit("status", {"status": Status.AWAITING_PHASE, "phase": index})
        else:
            self._phase_feedback(call, "The user stopped the session.")
            self._emit("phase", {"index": index, "status": PhaseStatus.FAILED})
            self._emit(
                "status", {"status": Status.FAILED, "reason": f"validation failed in phase {index}"}
            )
        self._write_plan()

    def _running(self, index: int) -> Status:
        """RUNNING, or DOCUMENTING for the closing documentation phase."""
        assert self.state.plan is not None
        phases = self.state.plan.phases
        last = index == len(phases) and phases[-1].name.lower().startswith("doc")
        return Status.DOCUMENTING if last else Status.RUNNING

    def _phase_feedback(self, call: dict[str, Any] | None, text: str) -> None:
        if call is not None:
            self._result(call["id"], text)
        else:
            self._user(text)

    def _finish_phase(self, call: dict[str, Any] | None, index: int, text: str) -> None:
        assert self.state.plan is not None
        self._phase_feedback(call, text + "\nWait for the user to approve the next phase.")
        self._emit("phase", {"index": index, "status": PhaseStatus.DONE})
        self._emit("status", {"status": Status.AWAITING_PHASE, "phase": index + 1})
        self._write_plan()

    async def _run_checks(self, index: int, attempt: int) -> list[CheckResult]:
        checks = detect_checks(self.workspace, self.validation_commands)
        results: list[CheckResult] = []
        bash = self.tools.get("bash")
        for number, check in enumerate(checks, start=1):
            decision = self.policy.check_bash(check.command)
            refused: str | None = None
            if decision.action is Action.DENY:
                refused = decision.reason
            elif decision.action is Action.ASK and check.command not in self.state.allowed:
                answer = await self._ask(
                    question(
                        "permission",
                        f"permission:validate:{index}:{attempt}:{number}#1",
                        f"Run the check `{check.command}`? {decision.reason}",
                        command=check.command,
                        decision=decision,
                    )
                )
                if answer.choice == "deny":
                    refused = "the user declined to run it"
            if refused is not None or bash is None:
                results.append(
                    CheckResult(
                        check=check,
                        exit_code=None,
                        passed=False,
                        refused=refused or "the bash tool is not available",
                    )
                )
                continue
            ctx = self._context(f"validate-{index}-{attempt}-{number}")
            ctx.confirm = _approve_all
            started = time.monotonic()
            result = await bash.run({"command": check.command, "timeout": 600}, ctx)
            results.append(
                result_for(
                    check,
                    result.data.get("exit_code"),
                    result.text,
                    time.monotonic() - started,
                    result.data.get("output_file"),
                )
            )
        return results


def _without_thinking(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "content": [b for b in message["content"] if b["type"] not in THINKING]}


def _kept_content(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What of a turn enters the conversation: thinking only beside text or a tool call."""
    if all(b["type"] in THINKING for b in content):
        return []
    return content


async def _approve_all(_what: str, _decision: Any) -> bool:
    return True


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot record {type(value).__name__}")
