"""The approval record of a session: a self-contained Markdown document for a pull request or
an audit. It is built from the session's event log alone (which holds no secret), and holds:
the approved plan, each amendment and who approved it when, each phase's approval, its
changes as the diffs the user reviewed, its validation and acceptance results, the denied
attempts, and the cost."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from plangate.model.catalog import model_for
from plangate.workflow.contract import declares
from plangate.workflow.log import LoggedEvent
from plangate.workflow.plan import render_markdown
from plangate.workflow.state import SessionState, replay
from plangate.workflow.validation import CheckResult, summarize


def record(events: Iterable[LoggedEvent]) -> str:
    """The record of the session whose events these are."""
    logged = list(events)
    state = replay(logged)
    asked = {e.data["id"]: e for e in logged if e.type == "question"}
    answered = {e.data["id"]: e for e in logged if e.type == "answer"}
    plan = state.approved_plan or state.plan
    lines = [
        f"# PlanGate record: {plan.title if plan else state.task}",
        "",
        f"- Session: `{state.id}`, agent `{state.agent}`, model `{state.model or 'unknown'}`",
        f"- Task: {state.task}",
        f"- Outcome: {state.status.value}{f' ({state.reason})' if state.reason else ''}",
        "",
    ]
    lines += _plan(state, asked, answered)
    lines += _amendments(state, answered)
    lines += _phases(state, logged, asked, answered)
    lines += _denied(logged)
    lines += _cost(state)
    return "\n".join(lines).rstrip() + "\n"


def _fenced(language: str, text: str) -> list[str]:
    """`text` in a code block no line of it can close: the fence is longer than any run of
    backticks in it (a Markdown file's diff holds fences of its own)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text.rstrip(), fence]


def _one_line(text: str) -> str:
    """What the model wrote, on one line: it cannot start a heading or a list of its own."""
    return " ".join(text.split())


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _answer(event: LoggedEvent | None) -> str:
    """`approve by alice in VS Code at 2026-11-30 07:40:12 UTC`."""
    if event is None:
        return "not answered"
    answer = event.data["answer"]
    by = f" by {answer['by']}" if answer.get("by") else ""
    feedback = f' ("{_one_line(answer["feedback"])}")' if answer.get("feedback") else ""
    return f"{answer['choice']}{by} at {_when(event.at)}{feedback}"


def _plan(
    state: SessionState, asked: dict[str, LoggedEvent], answered: dict[str, LoggedEvent]
) -> list[str]:
    plan = state.approved_plan or state.plan
    if plan is None:
        return ["## Plan", "", "No plan was proposed.", ""]
    lines = ["## Plan", ""]
    for qid in (q for q in asked if q.startswith("plan:")):
        lines.append(f"- version {qid.split(':')[1].split('#')[0]}: {_answer(answered.get(qid))}")
    heading = "The approved plan" if state.approved_plan else "The proposed plan (not approved)"
    # The plan's own headings sit one level below the record's.
    body = re.sub(
        r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 3) + " ", render_markdown(plan), flags=re.M
    )
    return [*lines, "", f"### {heading}", "", body.rstrip(), ""]


def _amendments(state: SessionState, answered: dict[str, LoggedEvent]) -> list[str]:
    lines = ["## Amendments", ""]
    if not state.amendments:
        return [*lines, "None: every change stayed within the files its phase declared.", ""]
    for amendment in state.amendments:
        changes = [f"changes `{f}`" for f in amendment.files]
        does = ", ".join([*changes, *(f"runs `{c}`" for c in amendment.commands)])
        answer = answered.get(amendment.question)
        how = _answer(answer) if answer else f"approve at {_when(amendment.at)}"
        lines += [
            f"- Phase {amendment.phase} also {does}: {_one_line(amendment.reason)}",
            f"  - {how}",
            "",
            *_fenced("diff", amendment.diff),
            "",
        ]
    return lines


def _phases(
    state: SessionState,
    logged: list[LoggedEvent],
    asked: dict[str, LoggedEvent],
    answered: dict[str, LoggedEvent],
) -> list[str]:
    plan = state.plan
    if plan is None:
        return []
    lines = ["## Phases", ""]
    for index, phase in enumerate(plan.phases, start=1):
        status = state.phases.get(index)
        lines += [f"### Phase {index}: {phase.name} ({status.value if status else 'pending'})", ""]
        for qid in (q for q in asked if q.startswith(f"phase:{index}#")):
            lines.append(f"- Approval: {_answer(answered.get(qid))}")
        if state.summaries.get(index):
            lines.append(f"- Summary: {_one_line(state.summaries[index])}")
        lines.append("")
        lines += _changes(index, asked, answered)
        lines += _by_commands(state, logged, index)
        lines += _validations(state.validations.get(index, []))
    return lines


def _changes(
    index: int, asked: dict[str, LoggedEvent], answered: dict[str, LoggedEvent]
) -> list[str]:
    """The changes the user reviewed in this phase, with what they answered."""
    lines: list[str] = []
    for qid, question in asked.items():
        data = question.data
        if data["kind"] != "edit" or data.get("phase_index") != index or not data.get("change"):
            continue
        change = data["change"]
        lines += [f"- `{change['path']}`: {_answer(answered.get(qid))}", ""]
        lines += [*_fenced("diff", change["diff"]), ""]
    return lines or ["No change was reviewed in this phase.", ""]


def _by_commands(state: SessionState, logged: list[LoggedEvent], index: int) -> list[str]:
    """The files the agent's own commands changed in this phase; those the phase did not
    declare are marked (a command's writes are seen after it ran, not asked about before)."""
    commands = {
        block["id"]: block["input"].get("command", "")
        for message in state.messages
        if message["role"] == "assistant" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_use" and block.get("name") == "bash"
    }
    assert state.plan is not None
    phase = state.plan.phases[index - 1]
    lines = []
    for event in logged:
        if event.type != "agent_changed" or event.data["phase"] != index:
            continue
        if event.data["id"] not in commands:
            continue
        for change in event.data["changes"]:
            path = change["path"]
            mark = "" if declares(phase, path) else " (not declared by this phase)"
            lines.append(f"- `{path}` changed by `{commands[event.data['id']]}`{mark}")
    return [*lines, ""] if lines else []


def _validations(attempts: list[list[dict[str, Any]]]) -> list[str]:
    lines: list[str] = []
    for attempt, results in enumerate(attempts, start=1):
        summary = summarize([CheckResult.model_validate(r) for r in results])
        lines += [f"Validation, attempt {attempt}:", "", *(f"- {s}" for s in summary.splitlines())]
        lines.append("")
    return lines


def _denied(logged: list[LoggedEvent]) -> list[str]:
    denied = [e.data for e in logged if e.type == "denied"]
    lines = ["## Denied attempts", ""]
    if not denied:
        return [*lines, "None.", ""]
    for data in denied:
        where = f"phase {data.get('phase')}" if data.get("phase") else "before the plan"
        target = _one_line(data["target"][:200]).replace("`", "'")
        reason = _one_line(str(data.get("reason", "")))
        lines.append(f"- {where}: {data['kind']} `{target}`: {reason}")
    return [*lines, ""]


def _cost(state: SessionState) -> list[str]:
    usage = state.total_usage
    model = model_for(state.model)
    cost = f"${state.usage.cost(model):.4f}" if model else "unknown (model not in the catalog)"
    return [
        "## Cost",
        "",
        f"- Tokens: {usage.prompt_tokens:,} in ({usage.cache_read_input_tokens:,} from cache), "
        f"{usage.output_tokens:,} out",
        f"- Cost: {cost}",
        "",
    ]
