"""The plan and its phases: proposal, approval, revision, phase by phase with checkpoints,
validation and its retries, rollback, completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from plangate.layout import Layout
from plangate.model.types import ToolCall
from plangate.tools.base import json_schema
from plangate.workflow import prompts
from plangate.workflow import rollback as undo
from plangate.workflow.approvals import question
from plangate.workflow.checkpoints import CheckpointError, content_hash
from plangate.workflow.checks import Checks
from plangate.workflow.contract import changed_phases, plan_diff
from plangate.workflow.events import (
    Checkpointed,
    PhaseChanged,
    PlanProposed,
    RollbackRefused,
    RolledBack,
    StatusChanged,
    Validated,
    Withdrawn,
)
from plangate.workflow.plan import PLAN_TOOL_DESCRIPTION, Plan, render_markdown
from plangate.workflow.project import project_head
from plangate.workflow.rollback import CannotRollBack
from plangate.workflow.state import PhaseStatus, Status
from plangate.workflow.validation import summarize

MAX_FIX_ATTEMPTS = 3


class CompletePhase(BaseModel):
    """End the current phase."""

    summary: str = Field(min_length=1, description="What was done in this phase, for the user")


def workflow_tools() -> list[dict[str, Any]]:
    return [
        {
            "name": "propose_plan",
            "description": PLAN_TOOL_DESCRIPTION,
            "input_schema": json_schema(Plan),
        },
        {
            "name": "complete_phase",
            "description": "Finish the phase the user approved, with a summary; PlanGate then "
            "validates it. The next phase starts only when the user approves it.",
            "input_schema": json_schema(CompletePhase),
        },
    ]


class Phases(Checks):
    """The workflow of the seed: plan first, then phase by phase."""

    def _plan_path(self) -> Path:
        return Layout(self.workspace).plan(self.state.id, self.state.task)

    def plan_document(self) -> Path:
        """Where the plan document is (it exists once a plan was proposed), written again
        when it is missing: deleted by the user, or a session from before plans were named
        by their task."""
        path = self._plan_path()
        if self.state.plan is not None and not path.exists():
            self._write_plan()
        return path

    def _write_plan(self) -> None:
        if self.state.plan is None:
            return
        path = self._plan_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        # No statuses in it: the lens on each heading is the one place a phase's status shows.
        path.write_text(render_markdown(self.state.plan), encoding="utf-8")

    def _propose(self, call: ToolCall) -> None:
        if self.state.status is not Status.ANALYSING:
            self._result(call.id, prompts.PLAN_ALREADY_APPROVED, error=True)
            return
        try:
            plan = Plan.model_validate(call.input).with_documentation()
        except ValidationError as exc:
            errors = "\n".join(
                f"- {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            self._result(call.id, prompts.plan_invalid(errors), error=True)
            return
        self._emit(PlanProposed(plan=plan, version=self.state.plan_version + 1))
        self._emit(StatusChanged(status=Status.PLAN_PROPOSED))
        self._write_plan()

    def _open_call(self, name: str) -> ToolCall | None:
        return next((c for c in self.state.open_tool_calls if c.name == name), None)

    def _close_others(self, keep: str) -> None:
        for call in self.state.open_tool_calls:
            if call.id != keep:
                self._result(call.id, prompts.NOT_RUN_AFTER_QUESTION, error=True)

    async def _ask_plan(self) -> None:
        state = self.state
        assert state.plan is not None
        call = self._open_call("propose_plan")
        title, diff = f"Approve the plan '{state.plan.title}'?", None
        approved = state.approved_plan
        if approved is not None:
            # A revision is approved as what it changes in the plan the user approved.
            changed = changed_phases(approved, state.plan)
            diff = plan_diff(approved, state.plan)
            title = (
                f"Approve the revised plan '{state.plan.title}'? It changes "
                f"{', '.join(changed) or 'no phase'}; the other phases are as approved."
            )
        answer = await self._ask(
            question(
                "plan",
                f"plan:{state.plan_version}#1",
                title,
                plan=state.plan,
                document=str(self._plan_path()),
                diff=diff,
            )
        )
        call_id = call.id if call else ""
        if answer.choice == "approve":
            text = prompts.PLAN_APPROVED
            next_status = StatusChanged(status=Status.AWAITING_PHASE, phase=max(1, state.phase))
        elif answer.choice == "revise":
            text = prompts.plan_revision(answer.feedback)
            next_status = StatusChanged(status=Status.ANALYSING)
        else:
            text = prompts.plan_rejected(answer.feedback)
            next_status = StatusChanged(
                status=Status.CANCELLED, reason=f"plan rejected: {answer.feedback}".strip(": ")
            )
        if call is not None:
            self._result(call_id, text)
            self._close_others(call_id)
        else:
            self._user(text)
        self._emit(next_status)

    async def _ask_phase(self) -> None:
        state = self.state
        assert state.plan is not None
        index = state.phase
        if index > len(state.plan.phases):
            self._emit(StatusChanged(status=Status.COMPLETED, reason="every phase is done"))
            return
        phase = state.plan.phases[index - 1]
        again = state.phases.get(index) in (PhaseStatus.ROLLED_BACK, PhaseStatus.FAILED)
        start = f"Run phase {index} again" if again else f"Start phase {index}"
        answer = await self._ask(
            question(
                "phase",
                self._question_id(f"phase:{index}"),
                f"{start}: {phase.name}?",
                phase_index=index,
                phase=phase,
            )
        )
        if answer.choice == "approve":
            # git takes a while on big trees: keep the event loop (an editor's server) free.
            commit = await asyncio.to_thread(
                self.checkpoints.snapshot, f"before phase {index}: {phase.name}"
            )
            head = await asyncio.to_thread(project_head, self.workspace)
            self._emit(Checkpointed(phase=index, commit=commit, project=head))
            self._emit(PhaseChanged(index=index, status=PhaseStatus.RUNNING, attempt=1))
            self._user(
                prompts.phase_approved(index, phase.name, phase.goal, phase.files, answer.feedback)
            )
            last = index == len(state.plan.phases) and phase.name.lower().startswith("doc")
            self._emit(
                StatusChanged(status=Status.DOCUMENTING if last else Status.RUNNING, phase=index)
            )
        elif answer.choice == "revise":
            self._user(prompts.phase_revision(index, phase.name, answer.feedback))
            self._emit(StatusChanged(status=Status.ANALYSING))
        elif answer.choice == "skip":
            if not again:  # a phase rolled back and not run again stays "rolled back"
                self._emit(PhaseChanged(index=index, status=PhaseStatus.SKIPPED))
            self._user(prompts.phase_skipped(index, phase.name))
            self._emit(StatusChanged(status=Status.AWAITING_PHASE, phase=self._next_phase(index)))
        elif answer.choice == "rollback":
            self._rollback_latest(index)
        else:
            self._emit(
                StatusChanged(
                    status=Status.CANCELLED,
                    reason=f"phase {index} rejected: {answer.feedback}".strip(": "),
                )
            )

    def _rollback_latest(self, before: int) -> None:
        done = [
            i
            for i in sorted(self.state.checkpoints)
            if i < before and self.state.phases.get(i) in (PhaseStatus.DONE, PhaseStatus.FAILED)
        ]
        if not done:
            self._user(prompts.NOTHING_TO_ROLL_BACK)
            return
        # Refused, it is recorded and shown; the phase question is asked again.
        with contextlib.suppress(CannotRollBack):
            self.rollback(done[-1])

    def rollback_files(self, index: int) -> list[str]:
        """The files a rollback of phase `index` would put back (what the agent changed in it,
        net), for the user to see before confirming."""
        net, conflicts = undo.net_changes(self.state.agent_changes.get(index, []))
        return sorted({*net, *(c.path for c in conflicts)})

    def rollback(self, index: int) -> list[str]:
        """Undo what the agent changed in phase `index`, and nothing else: the files it
        changed go back to their checkpoint content, the files it created are deleted. The
        workspace is snapshotted first, so the rollback can be undone (the `RolledBack` event
        says how). Raises `CannotRollBack`, having changed nothing, when the project's git
        branch or HEAD moved since the checkpoint or when someone else changed one of those
        files too; the refusal is recorded."""
        paths, command = self._roll_back(index)
        self._rolled_back(index, paths, command)
        if self.state.status in (Status.AWAITING_PHASE, Status.COMPLETED, Status.FAILED):
            # Waiting for the next phase, or done: the rolled-back phase is next, to run again
            # (or skip). A session that was working or paused goes on as it was. The question
            # about another phase is taken back: it is not asked again later, stale.
            state = self.state
            open_ones = [
                qid
                for qid in state.questions
                if qid.startswith("phase:")
                and qid not in state.answers
                and qid not in state.withdrawn
            ]
            for qid in open_ones:
                self._emit(Withdrawn(id=qid, reason=f"phase {index} was rolled back"))
            self._emit(
                StatusChanged(
                    status=Status.AWAITING_PHASE,
                    phase=index,
                    reason=f"phase {index} rolled back: run it again or skip it",
                )
            )
        return paths

    def _next_phase(self, after: int) -> int:
        """The phase after `after` still to do: phases done before a rerun of an earlier one
        are not asked about again. One past the last when none is left."""
        assert self.state.plan is not None
        last = len(self.state.plan.phases)
        following = range(after + 1, last + 1)
        return next(
            (i for i in following if self.state.phases.get(i) is not PhaseStatus.DONE), last + 1
        )

    def _roll_back(self, index: int) -> tuple[list[str], str]:
        """The files of a rollback: restored and recorded, or refused (recorded, raised).
        Returns the paths and the command that undoes the rollback."""
        commit = self.state.checkpoints.get(index)
        if commit is None:
            raise ValueError(f"phase {index} has no checkpoint")
        try:
            paths, snapshot = self._undo_agent_changes(index, commit)
        except CannotRollBack as exc:
            self._emit(RollbackRefused(phase=index, message=str(exc), paths=exc.paths))
            raise
        # Files the agent had deleted: the rollback brought them back, undoing it removes them.
        net, _ = undo.net_changes(self.state.agent_changes.get(index, []))
        gone = [path for path in paths if net[path].after is None]
        command = self._undo_command(snapshot, paths, gone) if snapshot else ""
        self._emit(
            RolledBack(
                phase=index,
                paths=paths,
                undo=snapshot,
                undo_command=command,
                message=undo.rolled_back(index, paths, command),
            )
        )
        return paths, command

    def _rolled_back(self, index: int, paths: list[str], command: str) -> None:
        """The phase's status, and the word to the model, after its files were rolled back."""
        self._emit(PhaseChanged(index=index, status=PhaseStatus.ROLLED_BACK))
        self._user(prompts.rolled_back(index, paths, command))

    def _undo_agent_changes(self, index: int, commit: str) -> tuple[list[str], str]:
        """Restore the paths the agent changed in phase `index` (checked first); return them
        and the snapshot taken before ('' when there was nothing to restore)."""
        net, conflicts = undo.net_changes(self.state.agent_changes.get(index, []))
        paths = sorted(net)
        then = self.state.project_heads.get(index)
        if then is not None:
            now = project_head(self.workspace)
            if now != then:
                raise CannotRollBack(undo.head_moved(index, then, now, paths), paths)
        try:
            at_checkpoint = self.checkpoints.hashes_at(commit, paths)
            current = {path: content_hash(self.workspace / path) for path in paths}
            conflicts += undo.conflicts_with(net, at_checkpoint, current)
            if conflicts:
                message = undo.conflicted(index, conflicts)
                raise CannotRollBack(message, sorted(c.path for c in conflicts))
            if not paths:
                return [], ""
            label = f"before rolling back phase {index}"
            return paths, self.checkpoints.restore_paths(commit, paths, label)
        except CheckpointError as exc:
            raise CannotRollBack(f"Phase {index} was not rolled back: {exc}", paths) from exc

    def _undo_command(self, snapshot: str, paths: list[str], gone: list[str]) -> str:
        """The shell command, run in the workspace, that puts `paths` back as they were before
        the rollback: git checks them out of `snapshot` (the store is a plain bare repository
        whose work tree is the workspace), and the files the agent had deleted, which the
        rollback brought back, are removed again."""
        store = os.path.relpath(self.checkpoints.store, self.workspace)
        parts = []
        kept = [path for path in paths if path not in gone]
        if kept:
            parts.append(
                f"git --literal-pathspecs --git-dir={shlex.quote(store)} --work-tree=. "
                f"checkout {snapshot} -- {' '.join(shlex.quote(path) for path in kept)}"
            )
        if gone:
            parts.append(f"rm -f -- {' '.join(shlex.quote(path) for path in gone)}")
        return " && ".join(parts)

    def _complete(self, call: ToolCall) -> None:
        if self.state.status not in (Status.RUNNING, Status.DOCUMENTING):
            self._result(call.id, prompts.NO_PHASE_RUNNING, error=True)
            return
        summary = call.input.get("summary")
        # A missing or odd summary must not stop the phase: the model gets on with validation.
        params = CompletePhase(
            summary=summary if isinstance(summary, str) and summary.strip() else "(no summary)"
        )
        self._emit(
            PhaseChanged(
                index=self.state.phase,
                status=PhaseStatus.VALIDATING,
                summary=params.summary,
            )
        )
        self._emit(StatusChanged(status=Status.VALIDATING, phase=self.state.phase))

    async def _validate(self) -> None:
        state = self.state
        assert state.plan is not None
        index = state.phase
        attempt = state.attempts.get(index, 1)
        results = await self._run_checks(index, attempt)
        self._emit(
            Validated(
                phase=index,
                attempt=attempt,
                results=[r.model_dump(mode="json") for r in results],
            )
        )
        call = self._open_call("complete_phase")
        failed = [r for r in results if not r.passed]
        summary = summarize(results) if results else "no checks found"
        if not failed:
            self._finish_phase(call, index, prompts.phase_done(index, summary))
            return
        details = "\n\n".join(f"$ {r.check.command}\n{r.output_tail[-3000:]}" for r in failed)
        if attempt < MAX_FIX_ATTEMPTS:
            self._phase_feedback(
                call, prompts.validation_failed(attempt, MAX_FIX_ATTEMPTS, summary, details)
            )
            self._emit(PhaseChanged(index=index, status=PhaseStatus.RUNNING, attempt=attempt + 1))
            self._emit(StatusChanged(status=self._running(index), phase=index))
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
            self._phase_feedback(call, prompts.validation_retry(summary, details, answer.feedback))
            self._emit(PhaseChanged(index=index, status=PhaseStatus.RUNNING, attempt=1))
            self._emit(StatusChanged(status=self._running(index), phase=index))
        elif answer.choice == "accept":
            self._finish_phase(call, index, prompts.accepted_despite_failure(index, summary))
        elif answer.choice == "rollback":
            try:
                paths, command = self._roll_back(index)
            except CannotRollBack:
                return  # recorded and shown; the checks run again and the user chooses again
            # The tool result first: the API wants it at the start of the next user message.
            self._phase_feedback(call, prompts.PHASE_ROLLED_BACK)
            self._emit(PhaseChanged(index=index, status=PhaseStatus.FAILED))
            self._rolled_back(index, paths, command)
            self._emit(StatusChanged(status=Status.AWAITING_PHASE, phase=index))
        else:
            self._phase_feedback(call, prompts.SESSION_STOPPED)
            self._emit(PhaseChanged(index=index, status=PhaseStatus.FAILED))
            self._emit(
                StatusChanged(status=Status.FAILED, reason=f"validation failed in phase {index}")
            )

    def _running(self, index: int) -> Status:
        """RUNNING, or DOCUMENTING for the closing documentation phase."""
        assert self.state.plan is not None
        phases = self.state.plan.phases
        last = index == len(phases) and phases[-1].name.lower().startswith("doc")
        return Status.DOCUMENTING if last else Status.RUNNING

    def _phase_feedback(self, call: ToolCall | None, text: str) -> None:
        if call is not None:
            self._result(call.id, text)
        else:
            self._user(text)

    def _finish_phase(self, call: ToolCall | None, index: int, text: str) -> None:
        assert self.state.plan is not None
        self._phase_feedback(call, text + prompts.WAIT_FOR_NEXT_PHASE)
        self._emit(PhaseChanged(index=index, status=PhaseStatus.DONE))
        self._emit(StatusChanged(status=Status.AWAITING_PHASE, phase=self._next_phase(index)))
