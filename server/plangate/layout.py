"""Where PlanGate keeps its state in a workspace (`.plangate/`), and the default agent.

One place for every path under `.plangate/`, so the engine, the tools, the permission engine
(which forbids the agent to edit it) and the front doors agree on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

STATE_DIR = ".plangate"
DEFAULT_AGENT = "backend-developer"
# A plan document's path, for the editor: `.plangate/plans/<session id>/<its task>.md`.
PLAN_DOCUMENT = re.compile(r"/\.plangate/plans/(?P<id>[^/]+)/[^/]+\.md$")
# What a plan document's name keeps of the task: characters every file system takes.
_NOT_IN_NAMES = re.compile(r"[^\w ,.()'-]+")
NAME_LENGTH = 60


@dataclass(frozen=True)
class Layout:
    """The `.plangate/` folder of one workspace."""

    workspace: Path

    @property
    def root(self) -> Path:
        """`.plangate/` itself."""
        return self.workspace / STATE_DIR

    def ignore_in_git(self) -> None:
        """Write `.plangate/.gitignore` (`*`) unless there is one: PlanGate's state (sessions,
        checkpoints, outputs) never floods the project's Source Control. A user who wants some
        of it tracked edits the file; it is not written again."""
        marker = self.root / ".gitignore"
        if not marker.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            text = "# PlanGate's own state: not part of the project.\n*\n"
            marker.write_text(text, encoding="utf-8")

    @property
    def sessions(self) -> Path:
        """One folder per session."""
        return self.root / "sessions"

    def events(self, session_id: str) -> Path:
        """A session's append-only event log."""
        return self.sessions / session_id / "events.jsonl"

    def results(self, session_id: str) -> Path:
        """Whole tool results too long for the conversation, for the read tool."""
        return self.sessions / session_id / "results"

    def plan(self, session_id: str, task: str) -> Path:
        """A session's plan document, with its code lenses in the editor: named for the task
        (the editor's tab says what the session is for), in a folder named by the session."""
        return self.root / "plans" / session_id / f"{document_name(task)}.md"

    @property
    def checkpoints(self) -> Path:
        """The shadow git repository of phase checkpoints."""
        return self.root / "checkpoints"

    @property
    def outputs(self) -> Path:
        """Whole outputs of commands, cut in what the model sees."""
        return self.root / "outputs"

    @property
    def config(self) -> Path:
        """The workspace's own settings (validation commands, `unsandboxed`)."""
        return self.root / "config.toml"


def document_name(task: str) -> str:
    """A file name (without suffix) for a task: its first line, without the characters some
    file systems refuse, cut at a word within NAME_LENGTH; "plan" when nothing is left."""
    first = task.strip().splitlines()[0] if task.strip() else ""
    name = " ".join(_NOT_IN_NAMES.sub(" ", first).split())
    if len(name) > NAME_LENGTH:
        cut = name[: NAME_LENGTH + 1]
        name = cut[: cut.rfind(" ")] if " " in cut else name[:NAME_LENGTH]
    return name.strip(" .") or "plan"


def user() -> str:
    """The name of the person this process runs for (for records of who approved what)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown user"
