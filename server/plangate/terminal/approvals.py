"""The engine's questions as terminal prompts; `--approve` answers some of them unattended."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TextIO

from plangate.layout import user
from plangate.terminal.style import Style
from plangate.workflow.approvals import Answer, Question, Unanswered
from plangate.workflow.checks import CHECK_QUESTION
from plangate.workflow.plan import criteria, render_markdown

# What `--approve KIND` answers, and the kinds it covers.
AUTO = {
    "plan": "approve",
    "phases": "approve",
    "amendments": "approve",
    "edits": "apply",
    "commands": "once",
}
KIND_OF = {
    "plan": "plan",
    "phase": "phases",
    "amendment": "amendments",
    "edit": "edits",
    "permission": "commands",
}
# Without a person at the terminal, the safe answer.
SAFE = {
    "plan": "reject",
    "amendment": "reject",
    "phase": "reject",
    "permission": "deny",
    "edit": "reject",
    "validation": "stop",
    "loop": "stop",
    "limit": "stop",
    "sign-in": "cancel",
}
NEEDS_FEEDBACK = {"revise", "reject"}
# What a plan approved in review covers: the plan, its phases, the changes within them.
REVIEWED = frozenset({"plan", "phases", "edits"})


class TerminalApprovals:
    """Asks at the terminal; answers unattended what `approve` names (never a deny).

    With `reviewed` (a plan document approved in review: `plangate run --plan FILE
    --approved`) no one is at the terminal: the plan, its phases and the changes within them
    are approved by that review; a plan amendment stops the run (it needs a person); every
    other question gets its safe answer (an 'ask' command is not run)."""

    person = True
    who = f"{user()} at the terminal"

    def __init__(
        self,
        out: TextIO,
        read: Callable[[str], str] = input,
        approve: frozenset[str] = frozenset(),
        style: Style | None = None,
        reviewed: str | None = None,
    ) -> None:
        self.out = out
        self.read = read
        self.approve = approve | (REVIEWED if reviewed else frozenset())
        self.style = style or Style(out)
        self.reviewed = reviewed
        if reviewed:
            self.person = False

    async def ask(self, question: Question) -> Answer:
        """Show the question and read the answer (in a thread: reading blocks)."""
        self._show(question)
        auto = KIND_OF.get(question.kind)
        if self.reviewed and auto in REVIEWED:
            choice = AUTO[auto]
            self._say(self.style(f"  -> {choice} (approved in review: {self.reviewed})", "dim"))
            return Answer(choice=choice, by=f"approved in review ({self.reviewed})")
        if self.reviewed and question.id.startswith(CHECK_QUESTION):
            # The project's checks, and the plan's acceptance checks: what the review approved
            # the phases to be validated with.
            self._say(self.style(f"  -> once (approved in review: {self.reviewed})", "dim"))
            return Answer(choice="once", by=f"approved in review ({self.reviewed})")
        if self.reviewed and question.kind == "amendment":
            raise Unanswered(
                f"{question.title} This plan amendment needs a person: the plan approved in "
                f"review ({self.reviewed}) does not declare it."
            )
        if self.reviewed and (auto is None or auto not in self.approve):
            choice = SAFE[question.kind]
            self._say(self.style(f"  -> {choice} (unattended: no one to ask)", "dim"))
            return Answer(choice=choice, by="no one (an unattended run)")
        if auto is not None and auto in self.approve:
            choice = AUTO[auto]
            self._say(self.style(f"  -> {choice} (--approve {auto})", "dim"))
            return Answer(choice=choice, by=f"--approve {auto} ({user()})")
        return await self._prompt(question)

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _show(self, question: Question) -> None:
        s = self.style
        self._say("")
        if question.diff:  # a change to the approved plan: the change is what to look at
            self._say(s.diff(question.diff))
        elif question.kind == "plan" and question.plan is not None:
            self._say(render_markdown(question.plan).rstrip())
            if question.document:
                self._say(s(f"(the plan is also in {question.document})", "dim"))
        elif question.kind == "phase" and question.phase is not None:
            phase = question.phase
            self._say(s(f"Phase {question.phase_index}: {phase.name}", "bold"))
            self._say(f"  goal: {phase.goal}")
            for step in phase.steps:
                self._say(f"  - {step}")
            if phase.files:
                self._say(f"  files: {', '.join(phase.files)}")
            for criterion in criteria(phase):
                self._say(f"  acceptance: {criterion}")
        elif question.kind == "edit" and question.change is not None:
            self._say(s.diff(question.change.diff))
        elif question.kind == "permission" and question.command:
            self._say(s("$ ", "yellow") + question.command)
        elif question.kind == "sign-in" and question.url:
            self._say(f"  {s(question.url, 'cyan')}")
        elif question.kind == "validation" and question.results:
            for result in question.results:
                mark = s("PASS", "green") if result.get("passed") else s("FAIL", "red")
                self._say(f"  {mark} {result['check']['command']}")
        self._say(s("? ", "magenta", "bold") + s(question.title, "bold"))

    async def _read(self, prompt: str) -> str:
        """`read` in a daemon thread: Ctrl-C cancels the wait, and a read still blocked on the
        terminal never keeps the process from exiting."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()

        def worker() -> None:
            try:
                value = self.read(prompt)
            except BaseException as exc:  # EOFError travels to the caller
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, value, None)

        threading.Thread(target=worker, daemon=True).start()
        return await future

    async def _prompt(self, question: Question) -> Answer:
        options = " / ".join(
            f"[{c[:n]}]{c[n:]}"
            for c, n in zip(question.choices, _prefixes(question.choices), strict=True)
        )
        while True:
            try:
                raw = (await self._read(f"  {options}: ")).strip().lower()
            except EOFError:
                choice = SAFE[question.kind]
                self._say(self.style(f"  -> {choice} (no one at the terminal)", "dim"))
                return Answer(choice=choice, by="no one at the terminal")
            matches = [c for c in question.choices if c == raw or (raw and c.startswith(raw))]
            if len(matches) == 1:
                choice = matches[0]
                break
            self._say(f"  please answer one of: {', '.join(question.choices)}")
        feedback = ""
        if choice in NEEDS_FEEDBACK or (question.kind == "edit" and choice == "reject"):
            try:
                feedback = (await self._read("  feedback for the agent (optional): ")).strip()
            except EOFError:
                feedback = ""
        return Answer(choice=choice, feedback=feedback)


def _settle(future: asyncio.Future[str], value: str | None, error: BaseException | None) -> None:
    if future.done():
        return  # cancelled by Ctrl-C meanwhile
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value or "")


def _prefixes(choices: tuple[str, ...]) -> list[int]:
    """The shortest prefix length that tells each choice from the others (revise/reject)."""
    lengths = []
    for choice in choices:
        n = 1
        while n < len(choice) and any(o != choice and o.startswith(choice[:n]) for o in choices):
            n += 1
        lengths.append(n)
    return lengths
