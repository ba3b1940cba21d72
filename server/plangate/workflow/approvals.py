"""The Approvals port: every question the engine asks the user, and a scripted adapter.

Front doors (the LSP server, the terminal, tests) implement one method, `ask`, turning each
`Question` into code lenses, prompts or scripted answers. Feedback reaches the model verbatim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

from plangate.permissions import Decision
from plangate.tools.changes import ProposedChange
from plangate.workflow.plan import PhasePlan, Plan

QuestionKind = Literal[
    "plan", "phase", "amendment", "permission", "edit", "validation", "loop", "limit", "sign-in"
]

CHOICES: dict[str, tuple[str, ...]] = {
    "plan": ("approve", "revise", "reject"),
    "phase": ("approve", "revise", "skip", "reject", "rollback"),
    # A phase's change outside what the approved plan declared for it.
    "amendment": ("approve", "reject"),
    "permission": ("once", "session", "deny"),
    "edit": ("apply", "reject"),
    "validation": ("retry", "accept", "stop", "rollback"),
    "loop": ("continue", "stop"),
    "limit": ("continue", "stop"),
    # A remote MCP server asks the user to sign in at `url`, in a browser.
    "sign-in": ("open", "cancel"),
}


class Question(BaseModel):
    """Something only the user can decide. `id` is stable across restarts."""

    id: str
    kind: QuestionKind
    title: str
    choices: tuple[str, ...]
    plan: Plan | None = None
    document: str | None = None
    phase_index: int | None = None
    phase: PhasePlan | None = None
    command: str | None = None
    decision: Decision | None = None
    change: ProposedChange | None = None
    results: list[dict[str, Any]] | None = None
    url: str | None = None
    # What changes in the approved plan (a revision, an amendment), as a unified diff.
    diff: str | None = None


class Answer(BaseModel):
    """The user's choice, with optional feedback for the model."""

    choice: str
    feedback: str = ""
    # For an applied edit: the indices of the hunks the user accepted (tools/hunks.py); None
    # for all of them.
    hunks: list[int] | None = None
    # Who answered, for the record: `alice in VS Code`, `--approve phases` (None: unknown).
    by: str | None = None

    @model_serializer(mode="wrap")
    def _without_unset_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Logged answers keep the shape they had before: no `"hunks": null`, `"by": null`.
        data: dict[str, Any] = handler(self)
        for key in ("hunks", "by"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class Superseded(Exception):
    """Raised by `Approvals.ask` for a question the session no longer waits on (a rollback
    made another phase next): the session goes on with what it now waits for."""


class Unanswered(Exception):
    """Raised by `Approvals.ask` when whoever answers did not, within their bound (an editor
    that lost the question): the session pauses with this reason, and asks again on resume."""


class ChangeOutdated(Exception):
    """Raised by `Approvals.ask` for an edit it cannot show: the file as the front door sees
    it (an editor's unsaved buffer, say) is no longer the text the change was computed on."""


class Approvals(Protocol):
    """What the engine needs from whoever speaks for the user."""

    # True when a person answers (minutes may pass before the next model turn): the prompt
    # cache is then written with the 1-hour TTL. False for scripted and unattended answers.
    person: bool
    # Who answers, for the record of the session (an answer's own `by` says it better).
    who: str

    async def ask(self, question: Question) -> Answer:
        """Answer `question` with one of its choices."""
        ...


def question(kind: QuestionKind, id: str, title: str, **fields: Any) -> Question:
    """A question of `kind` with that kind's choices."""
    return Question(id=id, kind=kind, title=title, choices=CHOICES[kind], **fields)


class ScriptedApprovals:
    """Answers from a list (consumed in order, per kind) or a function; records the questions.

    A list entry is `"choice"` or `("choice", "feedback")`; kinds without scripted answers get
    the first choice (approve, once, apply, ...), so tests script only what matters.
    """

    person = False
    who = "a script"

    def __init__(
        self,
        answers: dict[str, Sequence[str | tuple[str, str]]] | None = None,
        decide: Callable[[Question], Answer | None] | None = None,
    ) -> None:
        self.answers = {kind: list(items) for kind, items in (answers or {}).items()}
        self.decide = decide
        self.asked: list[Question] = []

    async def ask(self, question: Question) -> Answer:
        """The scripted answer for `question`."""
        self.asked.append(question)
        if self.decide is not None:
            answer = self.decide(question)
            if answer is not None:
                return answer
        queue = self.answers.get(question.kind)
        if queue:
            item = queue.pop(0)
            choice, feedback = (item, "") if isinstance(item, str) else item
            return Answer(choice=choice, feedback=feedback)
        return Answer(choice=question.choices[0])
