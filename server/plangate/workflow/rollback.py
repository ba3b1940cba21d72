"""What a rollback may put back: the agent's own changes in a phase, when nobody else's work is
in the way. Pure: the session gathers the facts (the recorded changes, the checkpoint's and the
disk's content hashes, the project's git HEAD) and acts on the answer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from plangate.workflow.checkpoints import PathChange
from plangate.workflow.project import ProjectHead

# The most files a message lists by name; the rest are counted.
LISTED = 20


class CannotRollBack(ValueError):
    """A rollback refused before anything changed; `paths` are the files concerned."""

    def __init__(self, message: str, paths: list[str]) -> None:
        super().__init__(message)
        self.paths = paths


@dataclass(frozen=True)
class Conflict:
    """A file the agent changed that someone else changed too: a rollback would lose it."""

    path: str
    why: str


def net_changes(changes: list[PathChange]) -> tuple[dict[str, PathChange], list[Conflict]]:
    """Per path, what the agent's changes in a phase amount to (the content before its first
    and after its last), when they form one chain; a path where the content moved between two
    of them was changed by someone else in between, and is a conflict. A path the agent put
    back as it found it needs nothing and is left out."""
    chains: dict[str, list[PathChange]] = {}
    for change in changes:
        chains.setdefault(change.path, []).append(change)
    net: dict[str, PathChange] = {}
    conflicts: list[Conflict] = []
    for path, chain in chains.items():
        if any(later.before != earlier.after for earlier, later in itertools.pairwise(chain)):
            conflicts.append(Conflict(path, "changed by someone else between the agent's changes"))
        elif chain[0].before != chain[-1].after:
            net[path] = PathChange(path=path, before=chain[0].before, after=chain[-1].after)
    return net, conflicts


def conflicts_with(
    net: dict[str, PathChange],
    at_checkpoint: dict[str, str | None],
    now: dict[str, str | None],
) -> list[Conflict]:
    """Paths a rollback to the checkpoint would take someone else's work from: changed before
    the agent got to them in the phase, or changed again since the agent left them."""
    found = []
    for path, change in sorted(net.items()):
        then = at_checkpoint.get(path)
        if change.before != then and then is None and change.before is not None:
            # Nothing there at the checkpoint, yet a file when the agent came to it.
            why = "not in the checkpoint: made by someone else before the agent changed it"
            found.append(Conflict(path, why + ", or a path checkpoints leave out"))
        elif change.before != then:
            found.append(Conflict(path, "changed in this phase before the agent changed it"))
        elif now.get(path) != change.after:
            found.append(Conflict(path, "changed since the agent left it"))
    return found


def listed(paths: list[str]) -> str:
    """Paths for a message: the first LISTED named, the rest counted."""
    shown = ", ".join(paths[:LISTED])
    more = len(paths) - LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def rolled_back(index: int, paths: list[str], undo_command: str) -> str:
    """For the user: what a rollback undid, and how to undo the rollback."""
    if not paths:
        return f"Rolled back phase {index}: the agent had changed no file in it."
    return (
        f"Rolled back phase {index}: the agent's changes to {listed(paths)} are undone; "
        f"changes of anyone else were kept. To undo the rollback, run in the workspace: "
        f"{undo_command}"
    )


def head_moved(index: int, then: ProjectHead, now: ProjectHead | None, paths: list[str]) -> str:
    """Refusal: the project's branch or HEAD is not where it was at the checkpoint."""
    where = now.describe() if now is not None else "no git repository"
    files = f"it would change {listed(paths)}" if paths else "the agent changed no file in it"
    return (
        f"Phase {index} was not rolled back: the project was on {then.describe()} when the "
        f"phase began and is now on {where}, so the checkpoint's files may belong to other "
        f"work; {files}. Nothing was changed. Go back to {then.describe()} to roll back, or "
        "undo the changes by hand."
    )


def conflicted(index: int, conflicts: list[Conflict]) -> str:
    """Refusal: files the agent changed were changed by someone else too."""
    listed = "; ".join(f"{c.path} ({c.why})" for c in conflicts[:LISTED])
    more = len(conflicts) - LISTED
    if more > 0:
        listed += f"; and {more} more"
    return (
        f"Phase {index} was not rolled back: a rollback would lose changes someone other than "
        f"the agent made (you, or a later phase) to: {listed}. Nothing was changed. Undo "
        "those changes, or undo the agent's by hand."
    )
