"""Plan amendments: while a phase runs, what it did not declare (a file to change, a command
that changes things, an MCP tool that does) is asked about as a change to the approved plan,
with the model's reason, before anything happens. Approved, the plan declares it from then on;
rejected, nothing happens and the model is told. Reading is never an amendment, and what the
rules deny is refused by the rules, not asked about."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from plangate.mcp.tool import McpCall
from plangate.model.types import ToolCall
from plangate.permissions import Action
from plangate.tools import Tool
from plangate.workflow import prompts
from plangate.workflow.approvals import question
from plangate.workflow.contract import amended, declares, declares_command, plan_diff
from plangate.workflow.events import PlanAmended
from plangate.workflow.plan import PhasePlan
from plangate.workflow.state import Status
from plangate.workflow.tracking import Tracking
from plangate.workflow.validation import detect_checks


class Amendments(Tracking):
    """Holding a running phase to what the approved plan declared for it."""

    async def _within_plan(self, call: ToolCall, tool: Tool[Any] | None) -> bool:
        """True when the call may go ahead: within the phase's declaration, or the user
        approved the amendment. False when rejected (the model has been told)."""
        phase = self._running_phase()
        if phase is None or tool is None:
            return True
        found = self._undeclared(call, tool, phase)
        if found is None:
            return True
        kind, target = found
        plan = self.state.plan
        assert plan is not None
        index = self.state.phase
        files, commands = ([target], []) if kind == "file" else ([], [target])
        diff = plan_diff(plan, amended(plan, index, files=files, commands=commands))
        reason = self._reason_for(call.id)
        does = f"also changes {target}" if kind == "file" else f"also runs `{target}`"
        answer = await self._ask(
            question(
                "amendment",
                f"amendment:{call.id}#1",
                f"Phase {index} {does}: {reason}",
                diff=diff,
                phase_index=index,
                command=target,
            )
        )
        if answer.choice == "reject":
            refused = prompts.amendment_rejected(kind, target, index, answer.feedback)
            self._result(call.id, refused, error=True)
            return False
        self._emit(
            PlanAmended(
                phase=index,
                files=files,
                commands=commands,
                reason=reason,
                diff=diff,
                at=time.time(),
                question=f"amendment:{call.id}#1",
            )
        )
        self._write_plan()  # the document shows the contract as it now is
        return True

    def _undeclared(
        self, call: ToolCall, tool: Tool[Any], phase: PhasePlan
    ) -> tuple[str, str] | None:
        """What of the call the phase did not declare: ("file", path) or ("command", text);
        None when nothing (or when the rules deny it anyway, or it only reads)."""
        if tool.permission == "edit":
            target = self._relative(str(call.input.get("file_path", "")))
            if target is None or declares(phase, target):
                return None
            if self.policy.check_edit(target).action is Action.DENY:
                return None  # the rules refuse it anyway, when the tool runs
            return "file", target
        if call.name == "bash":
            command = str(call.input.get("command", "")).strip()
            decision = self.policy.check_bash(command)
            if not command or decision.action is Action.DENY or decision.read_only:
                return None
            checks = [c.command for c in detect_checks(self.workspace, self.validation_commands)]
            return None if declares_command(phase, command, checks) else ("command", command)
        if isinstance(tool, McpCall):
            decision = tool.decision(self.policy, dict(call.input))
            if decision.action is Action.DENY or decision.read_only:
                return None
            name = tool.tool.qualified
            return None if declares_command(phase, name) else ("command", name)
        return None

    def _amended(self, call_id: str, what: str) -> bool:
        """Whether whoever answers here approved the amendment of this very call (its command,
        as asked): that answers the rules' 'ask' too, one question for one command. An
        amendment approved unattended (`--approve amendments`) answers no 'ask'."""
        answer = self.state.answers.get(f"amendment:{call_id}#1")
        asked = self.state.questions.get(f"amendment:{call_id}#1")
        return bool(
            answer
            and asked
            and answer.choice == "approve"
            and answer.by == self.approvals.who
            and asked.command == what
        )

    def _running_phase(self) -> PhasePlan | None:
        """The plan's entry for the phase that runs now (None outside one)."""
        if self.state.plan is None or self.state.status not in (Status.RUNNING, Status.DOCUMENTING):
            return None
        return self.state.plan.phases[self.state.phase - 1]

    def _relative(self, file_path: str) -> str | None:
        """A tool's path, relative to the workspace (`/`-separated); None outside it."""
        if not file_path:
            return None
        path = Path(file_path)
        full = (path if path.is_absolute() else self.workspace / path).resolve()
        try:
            return full.relative_to(self.workspace.resolve()).as_posix()
        except ValueError:
            return None

    def _reason_for(self, call_id: str) -> str:
        """What the model wrote in the turn that made the call: its reason, if it gave one."""
        for message in reversed(self.state.messages):
            blocks = message["content"] if isinstance(message["content"], list) else []
            if any(b.get("type") == "tool_use" and b.get("id") == call_id for b in blocks):
                said = [b["text"].strip() for b in blocks if b.get("type") == "text"]
                return " ".join(t for t in said if t)[:500] or "the model gave no reason"
        return "the model gave no reason"
