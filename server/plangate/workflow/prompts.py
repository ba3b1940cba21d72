"""Every text the engine sends the model, in one place to review.

The engine's rules reach the model three ways: the rules appended to the agent's prompt, the
results of its tool calls, and short user turns. Their wording matters (the model acts on it),
so they live here, named for the moment they are sent.
"""

from __future__ import annotations

from plangate.tools.hunks import Hunk

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

# ---------------------------------------------------------------- turns

PROPOSE_PLAN_NUDGE = (
    "Call propose_plan with your plan when your analysis is done; "
    "nothing can be changed before the user approves it."
)


def cut_off(tool_call_lost: bool) -> str:
    """After an answer cut by the output limit."""
    lost = "; its last tool call was incomplete and did not run" if tool_call_lost else ""
    return (
        f"Your answer was cut by the output limit{lost}. Continue, and split large changes "
        "into several smaller edits."
    )


# ---------------------------------------------------------------- tool calls


def refused_edit(tool: str, before_plan: bool) -> str:
    """The plan gate refused a tool that changes files."""
    if before_plan:
        return (
            f"Refused: {tool} changes files, and nothing may change before the user approves "
            "the plan. Finish the analysis and call propose_plan."
        )
    return f"Refused: {tool} changes files, and files change only in a phase the user approved."


def refused_command(action: str, reason: str, before_plan: bool) -> str:
    """The plan gate refused a command that is not read-only (or needs asking)."""
    where = "before the plan is approved" if before_plan else "outside an approved phase"
    advice = (
        " Use read, grep, glob and list to analyse, then call propose_plan." if before_plan else ""
    )
    return (
        f"Refused: {where} only read-only commands run (this one is '{action}': {reason}).{advice}"
    )


INTERRUPTED = (
    "This command was interrupted when PlanGate restarted; it may or may not have completed. "
    "Check its effects before running it again."
)


def command_interrupted(command: str) -> str:
    """For the user: a command of the agent's was cut off by PlanGate stopping."""
    return (
        f"`{command}` was running when PlanGate stopped; it was killed with PlanGate and is not "
        "run again. The agent is told it may or may not have completed."
    )


def check_interrupted(phase: int, attempt: int, command: str) -> str:
    """For the user: a validation was cut off by PlanGate stopping."""
    return (
        f"The validation of phase {phase} (attempt {attempt}) was running `{command}` when "
        "PlanGate stopped; it was killed with PlanGate. The phase's checks run again."
    )


NOT_RUN_AFTER_QUESTION = "Not run: it came after a step that needed the user."


def repeated(times: int, feedback: str) -> str:
    """The user stopped a call the model repeated."""
    return (
        f"Stopped by the user: this exact call was repeated {times} times. Try something "
        f"different. {feedback}"
    )


def unknown_tool(name: str) -> str:
    """A call to a tool the agent does not have."""
    return f"Unknown tool {name!r}."


def change_rejected(path: str, feedback: str) -> str:
    """The user rejected a proposed change."""
    return f"The user rejected the change to {path}. {feedback}".strip()


def amendment_rejected(kind: str, target: str, phase: int, feedback: str) -> str:
    """The user would not let phase `phase` change a file (kind "file") or run a command its
    plan did not declare."""
    if kind == "file":
        what = f"{target} is not among the files phase {phase} declared, so it stays as it is"
    else:
        what = f"`{target}` is not among what phase {phase} declared, so it was not run"
    return f"The user did not amend the plan: {what}. {feedback}".strip()


def change_applied(path: str, feedback: str) -> str:
    """The user applied a proposed change."""
    return f"Applied the change to {path}. {feedback}".strip()


def change_partly_applied(path: str, total: int, rejected: list[Hunk], feedback: str) -> str:
    """The user applied some hunks of a proposed change and rejected the others."""
    kept = ", ".join(
        f"lines {h.old_start + 1}-{h.old_start + h.old_lines}"
        if h.old_lines
        else f"nothing inserted after line {h.old_start}"
        for h in rejected
    )
    return (
        f"The user applied {total - len(rejected)} of the {total} hunks of the change to {path} "
        f"and rejected the others; where those were, the file stays as it was ({kept}). "
        f"Read the file again before changing it further. {feedback}"
    ).strip()


def change_outdated(path: str, why: str) -> str:
    """A proposed change was not shown: the file changed under it."""
    return (
        f"The change to {path} was not applied and the user was not asked: {why} "
        "Read the file again and propose the change against its current content."
    )


FILE_CHANGED_ON_DISK = "the file on disk changed since the change was proposed."


def change_failed(error: str) -> str:
    """A change the user accepted could not be written."""
    return f"The change could not be applied: {error}"


# ---------------------------------------------------------------- the plan

PLAN_ALREADY_APPROVED = (
    "The plan is already approved; work on the approved phase and call complete_phase when it "
    "is done."
)


def given_plan(document: str) -> str:
    """The plan comes with the task (a plan document from review): no plan to propose."""
    return (
        "The plan for this task is already written; you do not propose one. Work it phase by "
        "phase as the user approves each, changing only the files each phase declares.\n\n"
        f"{document}"
    )


PLAN_APPROVED = (
    "The user approved the plan. Each phase starts only when the user approves it; you will be "
    "told."
)


def plan_invalid(errors: str) -> str:
    """propose_plan's input did not validate."""
    return f"The plan is invalid:\n{errors}\nFix it and call propose_plan again."


def plan_revision(feedback: str) -> str:
    """The user asks for a revised plan."""
    return (
        f"The user asks for changes to the plan:\n{feedback}\nRevise it and call propose_plan "
        "again."
    )


def plan_rejected(feedback: str) -> str:
    """The user rejected the plan."""
    return f"The user rejected the plan. {feedback}".strip()


# ---------------------------------------------------------------- phases

NO_PHASE_RUNNING = "No phase is running: propose the plan and wait for the user to approve a phase."
NOTHING_TO_ROLL_BACK = "Nothing to roll back yet."
PHASE_ROLLED_BACK = "The user rolled this phase back."
SESSION_STOPPED = "The user stopped the session."
WAIT_FOR_NEXT_PHASE = "\nWait for the user to approve the next phase."


def phase_approved(index: int, name: str, goal: str, files: list[str], feedback: str) -> str:
    """A phase may start."""
    listed = ", ".join(files) or "none declared"
    return (
        f"Phase {index} ({name}) is approved. Implement only this phase: {goal}. Files: "
        f"{listed}. {feedback} When it is done, call complete_phase with a summary."
    ).replace("  ", " ")


def phase_revision(index: int, name: str, feedback: str) -> str:
    """The user wants a phase revised before it starts."""
    return (
        f"The user wants phase {index} ({name}) revised:\n{feedback}\n"
        "Call propose_plan with the revised plan."
    )


def phase_skipped(index: int, name: str) -> str:
    """The user skipped a phase."""
    return f"The user skipped phase {index} ({name})."


def rolled_back(index: int, paths: list[str], undo_command: str) -> str:
    """The user rolled a phase back: the agent's own changes, nobody else's."""
    undone = ", ".join(paths) or "no files"
    text = (
        f"The user rolled back phase {index}: the changes you made in it are undone "
        f"({undone}); changes made by anyone else were kept."
    )
    if undo_command:
        text += f" The rollback itself can be undone by running, in the workspace: {undo_command}"
    return text


# ---------------------------------------------------------------- validation


def phase_done(index: int, summary: str) -> str:
    """A phase passed its checks."""
    return f"Phase {index} is done. Validation:\n{summary}"


def validation_failed(attempt: int, attempts: int, summary: str, details: str) -> str:
    """A phase failed its checks and the model may fix it."""
    return (
        f"Validation failed (attempt {attempt} of {attempts}):\n{summary}\n\n{details}\n\n"
        "Fix it within this phase, then call complete_phase again."
    )


def validation_retry(summary: str, details: str, feedback: str) -> str:
    """The user asks for another try after the attempts ran out."""
    return (
        f"Validation failed:\n{summary}\n\n{details}\n\nThe user asks you to try again. {feedback}"
    ).strip()


def accepted_despite_failure(index: int, summary: str) -> str:
    """The user accepted a phase that fails its checks."""
    return f"The user accepted phase {index} although validation failed:\n{summary}"
