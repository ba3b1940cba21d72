"""A proposed change cut into hunks, so the user can accept some and reject others.

A hunk is one run of changed lines (difflib's non-equal opcodes over the lines, line endings
kept). The editor shows each with its own Accept and Reject; the answer names the accepted
hunks by index, and `partial` builds the change that holds exactly those: the file's other
lines stay as they were.
"""

from __future__ import annotations

import difflib
import itertools

from pydantic import BaseModel

from plangate.tools.changes import ChangeKind, ProposedChange, unified_diff


class Hunk(BaseModel):
    """One run of changed lines: where it is in the old text and in the proposed one."""

    index: int
    old_start: int  # 0-based line of the old text
    old_lines: int
    new_start: int  # 0-based line of the proposed text
    new_lines: int


def _opcodes(old: str, new: str) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes over the lines of `old` and `new`."""
    matcher = difflib.SequenceMatcher(
        None, old.splitlines(keepends=True), new.splitlines(keepends=True), autojunk=False
    )
    return list(matcher.get_opcodes())


def hunks(old: str, new: str) -> list[Hunk]:
    """The hunks that turn `old` into `new`, in order."""
    found: list[Hunk] = []
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag != "equal":
            found.append(
                Hunk(
                    index=len(found),
                    old_start=i1,
                    old_lines=i2 - i1,
                    new_start=j1,
                    new_lines=j2 - j1,
                )
            )
    return found


def compose(old: str, new: str, accepted: set[int]) -> str:
    """`old` with only the `accepted` hunks of the change to `new` applied."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    parts: list[str] = []
    index = 0
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag == "equal":
            parts += old_lines[i1:i2]
            continue
        parts += new_lines[j1:j2] if index in accepted else old_lines[i1:i2]
        index += 1
    return "".join(parts)


MAX_MATCHED = 12  # hunks: beyond, `matching` does not try every subset


def matching(old: str, new: str, text: str) -> set[int] | None:
    """The hunks of the change from `old` to `new` that `text` holds (the rest as in `old`), or
    None when it is no such mix: an editor applied some of a preview's edits and not others."""
    found = [hunk.index for hunk in hunks(old, new)]
    if len(found) > MAX_MATCHED:
        return None
    for size in range(len(found) + 1):
        for chosen in itertools.combinations(found, size):
            if compose(old, new, set(chosen)) == text:
                return set(chosen)
    return None


def reviewable(change: ProposedChange) -> bool:
    """True for a change hunks can be chosen from: a text file changed or created."""
    return change.kind in (ChangeKind.MODIFY, ChangeKind.CREATE) and change.new_text is not None


def partial(change: ProposedChange, accepted: set[int]) -> ProposedChange:
    """The change with only the `accepted` hunks (all of them: the change itself)."""
    old, new = change.old_text or "", change.new_text or ""
    if accepted >= {hunk.index for hunk in hunks(old, new)}:
        return change
    text = compose(old, new, accepted)
    return change.model_copy(
        update={"new_text": text, "diff": unified_diff(change.path, change.old_text, text)}
    )
