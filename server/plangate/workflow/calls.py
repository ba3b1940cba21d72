"""Tool calls: each one through the gate, then run, asked about, or proposed as a change the
user reviews. The model's calls and the editor's (`execute_tool`) take the same path.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

from plangate.layout import Layout
from plangate.mcp.tool import McpCall
from plangate.model.context import (
    truncate_tool_result,
)
from plangate.model.types import ToolCall
from plangate.permissions import Action, Decision
from plangate.tools import Tool, ToolContext
from plangate.tools.base import Confirm, ToolResult
from plangate.tools.changes import ApplyError, Drift, ProposedChange, apply_once, drift
from plangate.tools.hunks import hunks, partial, reviewable
from plangate.tools.ledger import FileStamp
from plangate.workflow import prompts
from plangate.workflow.amendments import Amendments
from plangate.workflow.approvals import ChangeOutdated, question
from plangate.workflow.contract import declares
from plangate.workflow.events import (
    ChangeApplied,
    Denied,
    Interrupted,
    OutputStreamed,
    ToolStarted,
    Withdrawn,
)
from plangate.workflow.gate import refusal

REPEAT_LIMIT = 3


class Calls(Amendments):
    """Running the tools."""

    def _repeated(self, call: ToolCall) -> bool:
        """The same tool with the same input as the previous calls, REPEAT_LIMIT times in a row."""
        calls = [
            b
            for m in self.state.messages
            if m["role"] == "assistant"
            for b in m["content"]
            if b["type"] == "tool_use"
        ]
        index = next(i for i, b in enumerate(calls) if b["id"] == call.id)
        recent = calls[max(0, index - REPEAT_LIMIT + 1) : index + 1]
        key = (call.name, json.dumps(call.input, sort_keys=True))
        return len(recent) == REPEAT_LIMIT and all(
            (b["name"], json.dumps(b["input"], sort_keys=True)) == key for b in recent
        )

    async def _execute(self, call: ToolCall) -> None:
        call_id, name = call.id, call.name
        acts = name == "bash" or name.startswith("mcp__")  # a command, or a server's tool
        if call_id in self.state.started and acts and not self._asking(call_id):
            # It was running when PlanGate stopped: running it again could repeat its effects.
            command = (
                str(call.input.get("command", ""))
                if name == "bash"
                else f"{name} {json.dumps(call.input, sort_keys=True)[:200]}"
            )
            self._emit(
                Interrupted(
                    kind="bash" if name == "bash" else "mcp",
                    command=command,
                    phase=self.state.phase,
                    message=prompts.command_interrupted(command),
                )
            )
            self._result(call_id, prompts.INTERRUPTED, error=True)
            return
        self._emit(ToolStarted(id=call_id, name=name))
        tool = self.tools.get(name)
        refused = refusal(self.state.status, tool, call.input, self.policy) if tool else None
        if refused is not None:
            self._denied(call, self._deny_record(call))
            self._result(call_id, refused, error=True)
            return
        if self._repeated(call):
            answer = await self._ask(
                question(
                    "loop",
                    f"loop:{call_id}#1",
                    f"The agent called {name} with the same input {REPEAT_LIMIT} times in a row. "
                    "Let it continue?",
                    command=json.dumps(call.input)[:500],
                )
            )
            if answer.choice == "stop":
                self._result(call_id, prompts.repeated(REPEAT_LIMIT, answer.feedback), error=True)
                return
        if tool is None:
            self._result(call_id, prompts.unknown_tool(name), error=True)
            return
        if not await self._within_plan(call, tool):
            return
        ctx = self._context(call_id)  # after an amendment: the phase declares the file now
        if name == "bash":
            ctx.watch = self._watch(call_id)  # the agent's own command: what it changes counts
        if name in ("write", "edit"):
            await self._propose_change(call, tool, ctx)
            return
        result = await tool.run(call.input, ctx)
        self._denied(call, result.data.get("denied"))
        text = truncate_tool_result(result.text, Layout(self.workspace).results(self.state.id))
        extra: dict[str, Any] = {}
        if result.data.get("images"):
            extra["images"] = result.data["images"]
        if name == "read" and not result.is_error:
            path = str((self.workspace / str(result.data.get("path", ""))).resolve())
            record = self.ledger.get(Path(path))
            if record is not None:
                extra["read"] = {"path": path, "stamp": record.stamp.model_dump()}
        self._result(call_id, text, error=result.is_error, **extra)

    def _asking(self, call_id: str) -> bool:
        """Call `call_id` stopped at a permission or amendment question (it never ran): asked
        again, it runs once the user answers."""
        prefixes = (f"permission:{call_id}:", f"amendment:{call_id}#")
        return any(
            qid.startswith(prefixes) and qid not in self.state.answers
            for qid in self.state.questions
        )

    def _deny_record(self, call: ToolCall) -> dict[str, Any] | None:
        """What a deny rule says of a call refused before it ran (None: no rule denies it)."""
        tool = self.tools.get(call.name)
        if call.name == "bash":
            kind, target = "command", str(call.input.get("command", ""))
            decision = self.policy.check_bash(target)
        elif tool is not None and tool.permission == "edit":
            kind, target = "edit", str(call.input.get("file_path", ""))
            decision = self.policy.check_edit(target)
        elif isinstance(tool, McpCall):
            kind, target = "mcp", f"{call.name} {json.dumps(call.input, sort_keys=True)[:300]}"
            decision = tool.decision(self.policy, call.input)
        else:
            return None
        if decision.action is not Action.DENY:
            return None
        return {"kind": kind, "target": target, **decision.to_json()}

    def _denied(self, call: ToolCall, record: dict[str, Any] | None) -> None:
        """An attempt a deny rule refused, for the editor to show where it was aimed."""
        if record is not None:
            self._emit(Denied(**record, tool=call.name, phase=self.state.phase, at=time.time()))

    def confirmer(self, key: str) -> Confirm:
        """How a tool asks the user about an 'ask' command: each question recorded under `key`
        (a tool call's id: unique in the session), answers for the session remembered."""
        counter = itertools.count(1)

        async def confirm(what: str, decision: Decision) -> bool:
            if what in self.state.allowed or self._amended(key, what):
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
        phase = self._running_phase()
        return ToolContext(
            workspace=self.workspace,
            policy=self.policy,
            ledger=self.ledger,
            confirm=self.confirmer(call_id),
            on_output=lambda stream, text: self.on_event(OutputStreamed(text=text)),
            declared=None if phase is None else functools.partial(declares, phase),
            network=self.agent.network,
        )

    async def _propose_change(self, call: ToolCall, tool: Tool[Any], ctx: ToolContext) -> None:
        call_id = call.id
        asked = self.state.questions.get(f"edit:{call_id}#1")
        if asked is not None and asked.change is not None:
            change = asked.change  # replay the proposal the user saw, never a new one
        else:
            result = await tool.run(call.input, ctx)
            if result.is_error:
                self._denied(call, result.data.get("denied"))
                self._result(call_id, result.text, error=True)
                return
            change = ProposedChange.model_validate(result.data["change"])
        outcome = await self._review(call_id, change)
        self._track_edit(call_id, change)
        extra = {"read": outcome.data["read"]} if "read" in outcome.data else {}
        self._result(call_id, outcome.text, error=outcome.is_error, **extra)

    async def _review(self, call_id: str, change: ProposedChange) -> ToolResult:
        """Ask the user about a proposed change and apply it (once) if they accept.

        One review per file at a time, across the sessions of this process: a second
        session's change to the same file is checked against the file as the first left it."""
        async with _file_lock(self.workspace / change.path):
            return await self._review_locked(call_id, change)

    async def _review_locked(self, call_id: str, change: ProposedChange) -> ToolResult:
        qid = f"edit:{call_id}#1"
        if qid not in self.state.answers:
            # Checked before every showing, a first one or one again after a restart.
            found = drift(change, self.workspace)
            if found is Drift.CHANGED:
                return self._outdated(qid, change, prompts.FILE_CHANGED_ON_DISK)
            if found is Drift.APPLIED:
                self._withdraw(qid, "the file already holds the change")
                return self._applied(call_id, change, "")
            if qid in self.state.withdrawn:  # taken back before a restart: still so
                return self._outdated(qid, change, self.state.withdrawn[qid])
        where = "" if change.in_phase is not False else " (not declared by this phase)"
        try:
            answer = await self._ask(
                question(
                    "edit",
                    qid,
                    f"Apply the change to {change.path}{where}?",
                    change=change,
                    phase_index=self.state.phase or None,
                )
            )
        except ChangeOutdated as exc:
            return self._outdated(qid, change, str(exc))
        if answer.choice == "reject":
            return ToolResult(
                text=prompts.change_rejected(change.path, answer.feedback), is_error=True
            )
        if answer.hunks is not None and reviewable(change):
            return self._partly_applied(call_id, change, set(answer.hunks), answer.feedback)
        return self._applied(call_id, change, answer.feedback)

    def _partly_applied(
        self, call_id: str, change: ProposedChange, accepted: set[int], feedback: str
    ) -> ToolResult:
        """Apply the hunks the user accepted, and tell the model which stayed as they were."""
        every = hunks(change.old_text or "", change.new_text or "")
        rejected = [hunk for hunk in every if hunk.index not in accepted]
        if not rejected:
            return self._applied(call_id, change, feedback)
        if len(rejected) == len(every):
            return ToolResult(text=prompts.change_rejected(change.path, feedback), is_error=True)
        result = self._applied(call_id, partial(change, accepted), feedback)
        if result.is_error:
            return result
        text = prompts.change_partly_applied(change.path, len(every), rejected, feedback)
        return result.model_copy(update={"text": text})

    def _outdated(self, qid: str, change: ProposedChange, why: str) -> ToolResult:
        """The change is not shown (or is taken back): the file moved on under it."""
        self._withdraw(qid, why)
        return ToolResult(text=prompts.change_outdated(change.path, why), is_error=True)

    def _withdraw(self, qid: str, why: str) -> None:
        """Take back question `qid`, if it was asked: it is no longer the user's to answer."""
        if qid in self.state.questions and qid not in self.state.withdrawn:
            self._emit(Withdrawn(id=qid, reason=why))

    def _applied(self, call_id: str, change: ProposedChange, feedback: str) -> ToolResult:
        """Write an accepted change (unless already written) and tell the model."""
        applied = prompts.change_applied(change.path, feedback)
        if call_id in self.state.applied:
            return ToolResult(text=applied)
        try:
            target = apply_once(change, self.workspace, self.policy)
        except ApplyError as exc:
            return ToolResult(text=prompts.change_failed(str(exc)), is_error=True)
        self._emit(ChangeApplied(id=call_id, path=change.path))
        stamp = FileStamp.of(target)
        if stamp is None:
            return ToolResult(text=applied)
        self.ledger.record(target, stamp)  # the agent knows this content: it may edit it again
        return ToolResult(
            text=applied, data={"read": {"path": str(target), "stamp": stamp.model_dump()}}
        )

    async def execute_tool(self, name: str, raw: dict[str, Any]) -> ToolResult:
        """One tool run for the editor (`plangate/executeTool`), through the same gate as the
        model's calls: refused outside an approved phase as the model would be, 'ask' put to
        the user, a change applied only once the user accepts it. Every question and answer
        is recorded in the session's log like the model's. It is not held to the phase's
        declaration: the user, not the model, asked for it (no amendment to ask them about)."""
        tool = self.tools[name]
        refused = refusal(self.state.status, tool, raw, self.policy)
        if refused is not None:
            return ToolResult(text=refused, is_error=True)
        call_id = f"editor-{uuid.uuid4().hex[:12]}"  # no earlier answer is recorded under it
        result = await tool.run(raw, self._context(call_id))
        if result.is_error or tool.permission != "edit":
            return result
        outcome = await self._review(call_id, ProposedChange.model_validate(result.data["change"]))
        return outcome.model_copy(update={"data": {**result.data, **outcome.data}})


async def run_unattached(tool: Tool[Any], raw: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """A tool run with no session behind it: the gate as before any plan (read-only only)."""
    refused = refusal(None, tool, raw, ctx.policy)
    if refused is not None:
        return ToolResult(text=refused, is_error=True)
    return await tool.run(raw, ctx)


# Per event loop and file: a lock lives while someone holds or waits for it.
_LOCKS: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = weakref.WeakValueDictionary()


def _file_lock(path: Path) -> asyncio.Lock:
    """The review lock of `path` on the running event loop."""
    key = (id(asyncio.get_running_loop()), str(path.resolve()))
    lock = _LOCKS.get(key)
    if lock is None:
        lock = _LOCKS[key] = asyncio.Lock()
    return lock
