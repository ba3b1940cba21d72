"""Validation runs: the workspace's checks, each through the permission engine, run with the
bash tool.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from plangate.permissions import Action
from plangate.workflow import prompts
from plangate.workflow.acceptance import SOURCE, commands, looked_up
from plangate.workflow.approvals import question
from plangate.workflow.calls import Calls
from plangate.workflow.events import CheckStarted, Interrupted
from plangate.workflow.validation import CheckResult, detect_checks, result_for

# The id of a question about running a check starts so (a front door may tell them apart).
CHECK_QUESTION = "permission:validate:"


class Checks(Calls):
    """Running a phase's checks."""

    async def _run_checks(self, index: int, attempt: int) -> list[CheckResult]:
        running = self.state.running_check
        if running is not None and (running.phase, running.attempt) == (index, attempt):
            # PlanGate stopped while this validation ran (its check died with it): say so,
            # then run the checks again, as no result of theirs was recorded.
            self._emit(
                Interrupted(
                    kind="check",
                    command=running.command,
                    phase=index,
                    message=prompts.check_interrupted(index, attempt, running.command),
                )
            )
        assert self.state.plan is not None
        phase = self.state.plan.phases[index - 1]
        # The project's own checks, then the phase's acceptance checks (the plan's).
        checks = [*detect_checks(self.workspace, self.validation_commands), *commands(phase)]
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
                        f"{CHECK_QUESTION}{index}:{attempt}:{number}#1",
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
            if check.source != SOURCE:
                # The engine's ask was put to the user above. The bash tool's own question
                # where there is no sandbox is not: a check is the user's config or the
                # project's own script (docs/permissions.md), not a command the model chose.
                ctx.confirm = _approve_all
            self._emit(
                CheckStarted(phase=index, attempt=attempt, number=number, command=check.command)
            )
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
        # A route check reads the test files: off the event loop (an editor's server).
        return [*results, *await asyncio.to_thread(looked_up, phase, self.workspace)]


async def _approve_all(_what: str, _decision: Any) -> bool:
    return True
