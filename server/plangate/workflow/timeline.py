"""A session's log as a person reads it: what the agent did, what was checked, what was refused.

The event log holds everything, much of it for the model (prompts, tool results, streamed
text). The timeline keeps one line per thing that happened, in words: a tool call with its file
or command and how it ended, a validation with its checks, a denial with the rule, each
question with its answer, phase changes, pauses and rollbacks. Editors show it (the VS Code
activity view) and so does `plangate timeline`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel

from plangate.workflow.events import (
    Answered,
    Asked,
    Denied,
    ModelTurned,
    PhaseChanged,
    PlanProposed,
    RollbackRefused,
    RolledBack,
    Started,
    StatusChanged,
    ToolFinished,
    Validated,
    Withdrawn,
)
from plangate.workflow.log import LoggedEvent

Kind = Literal[
    "started",
    "plan",
    "question",
    "answer",
    "tool",
    "validation",
    "denied",
    "phase",
    "status",
    "rollback",
]
# Tool inputs that say what a call is about, in the order they are looked for.
_SUBJECTS = ("file_path", "path", "command", "pattern", "url", "query")
MAX_TEXT = 200  # characters of one line
# Tools whose calls are the engine's own steps, shown by their own entries (plan, phase).
_ENGINE_TOOLS = frozenset({"propose_plan", "complete_phase", "ask_user"})


class TimelineEntry(BaseModel):
    """One line of the timeline."""

    at: float  # seconds since the epoch
    phase: int  # 0: before the plan's phases
    kind: Kind
    text: str
    ok: bool = True  # False for a failed call or check, a denial, a rejection


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_TEXT else line[: MAX_TEXT - 1] + "…"


def _subject(tool_input: dict[str, Any]) -> str:
    for key in _SUBJECTS:
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _checks(results: list[dict[str, Any]]) -> tuple[str, bool]:
    """A validation's checks in one line, and whether all passed."""
    parts = []
    for result in results:
        command = (result.get("check") or {}).get("command", "?")
        counts = [
            f"{result[key]} {word}"
            for key, word in (("passed_count", "passed"), ("failed_count", "failed"))
            if result.get(key)
        ]
        state = "PASS" if result.get("passed") else "FAIL"
        parts.append(f"{state} {command}" + (f" ({', '.join(counts)})" if counts else ""))
    return ("; ".join(parts) or "no checks found"), all(r.get("passed") for r in results)


def timeline(logged: Iterable[LoggedEvent]) -> list[TimelineEntry]:
    """The timeline of a session's logged events, oldest first."""
    entries: list[TimelineEntry] = []
    inputs: dict[str, tuple[str, dict[str, Any]]] = {}  # tool call id -> (name, input)
    questions: dict[str, str] = {}  # question id -> its title
    phase = 0

    def add(at: float, kind: Kind, text: str, ok: bool = True) -> None:
        entries.append(TimelineEntry(at=at, phase=phase, kind=kind, text=_short(text), ok=ok))

    for item in logged:
        try:
            event = item.event
        except ValueError:
            continue  # a line this version does not know: the rest still reads
        match event:
            case Started():
                add(item.at, "started", f"{event.agent}: {event.task}")
            case ModelTurned():
                for block in event.message.get("content") or []:
                    if isinstance(block, dict) and block.get("type") == "tool_use":
                        raw = block.get("input")
                        inputs[str(block.get("id"))] = (
                            str(block.get("name")),
                            raw if isinstance(raw, dict) else {},
                        )
            case PlanProposed():
                add(item.at, "plan", f"plan v{event.version}: {event.plan.title}")
            case ToolFinished():
                name, tool_input = inputs.get(event.id, ("", {}))
                if name and name not in _ENGINE_TOOLS:
                    subject = _subject(tool_input)
                    outcome = event.text.strip().splitlines()[-1] if event.text.strip() else ""
                    text = f"{name} {subject}".strip()
                    if event.is_error or name in ("edit", "write", "bash"):
                        text += f": {outcome}" if outcome else ""
                    add(item.at, "tool", text, ok=not event.is_error)
            case Validated():
                text, passed = _checks(event.results)
                add(item.at, "validation", f"validation {event.attempt}: {text}", ok=passed)
            case Denied():
                reason = (event.model_extra or {}).get("reason", "")
                add(item.at, "denied", f"denied {event.kind} {event.target}: {reason}", ok=False)
            case Asked():
                questions[event.id] = event.title  # shown with its answer
            case Answered():
                choice = event.answer.choice
                if event.answer.hunks is not None:  # 1-based, as the editor shows them
                    choice += " hunk " + ", ".join(str(h + 1) for h in event.answer.hunks)
                feedback = f" ({event.answer.feedback})" if event.answer.feedback else ""
                title = questions.get(event.id, event.id)
                ok = choice not in ("reject", "deny", "stop")
                add(item.at, "answer", f"{choice}: {title}{feedback}", ok=ok)
            case Withdrawn():
                add(item.at, "answer", f"withdrawn: {questions.get(event.id, event.id)}")
            case PhaseChanged():
                phase = event.index
                add(item.at, "phase", f"phase {event.index} {event.status.value}")
            case StatusChanged() if event.reason:
                ok = event.status.value not in ("paused", "failed", "cancelled")
                add(item.at, "status", f"{event.status.value}: {event.reason}", ok=ok)
            case RolledBack():
                add(item.at, "rollback", event.message or f"phase {event.phase} rolled back")
            case RollbackRefused():
                add(item.at, "rollback", event.message, ok=False)
            case _:
                pass
    return entries
