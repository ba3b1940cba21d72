"""The approved plan as the contract of each phase: the files it declared are what it may change
without asking about the plan again; any other file is a plan amendment the user approves
first (or not), shown as a diff of the plan.

The agent's rules still apply on top: a declared file the rules deny stays denied.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from plangate.permissions.patterns import compile_bash, compile_path
from plangate.workflow.plan import PhasePlan, Plan, render_markdown


def declares(phase: PhasePlan, path: str) -> bool:
    """Whether `phase` declared `path` (workspace-relative, `/`-separated): named as is, or
    matched by one of its globs (`app/**`, `tests/test_*.py`), or under a declared folder."""
    target = PurePosixPath(path)
    for declared in phase.files:
        pattern = declared.rstrip("/")
        if not pattern:
            continue
        if path == pattern or target.is_relative_to(pattern):
            return True
        # gitignore's meaning, anchored at the workspace: `**` spans folders, `*` does not.
        if any(c in pattern for c in "*?[") and compile_path(f"/{pattern}").regex.match(path):
            return True
    return False


def declares_command(phase: PhasePlan, command: str, checks: Sequence[str] = ()) -> bool:
    """Whether `phase` declared `command` (or an MCP tool's name): as written, or matched by a
    declared pattern with `*` (`npm run *`); the project's own `checks` count for every phase.
    The whole command must match (`pytest` does not declare `pytest; curl ...`), and a pattern
    matches one simple command only: `npm run *` does not declare `npm run x && rm -rf src`."""
    for declared in (*phase.commands, *checks):
        if command == declared:
            return True
        wildcard = "*" in declared and not _SHELL.search(command)
        if wildcard and compile_bash(declared).written.fullmatch(command):
            return True
    return False


# What joins, nests or redirects commands: a command holding one is not matched by a pattern.
_SHELL = re.compile(r"[;&|<>`$()\n\\]")


def amended(
    plan: Plan, phase: int, *, files: Sequence[str] = (), commands: Sequence[str] = ()
) -> Plan:
    """The plan with `files` and `commands` added to phase `phase`'s (1-based) declaration."""
    phases = list(plan.phases)
    current = phases[phase - 1]
    phases[phase - 1] = current.model_copy(
        update={
            "files": [*current.files, *(f for f in files if f not in current.files)],
            "commands": [*current.commands, *(c for c in commands if c not in current.commands)],
        }
    )
    return plan.model_copy(update={"phases": phases})


def plan_diff(before: Plan, after: Plan) -> str:
    """The change to the plan document, as a unified diff."""
    return "".join(
        difflib.unified_diff(
            render_markdown(before).splitlines(keepends=True),
            render_markdown(after).splitlines(keepends=True),
            "approved plan",
            "amended plan",
        )
    )


def changed_phases(before: Plan, after: Plan) -> list[str]:
    """The phases a revision changes, for the user: `phase 2 (API)`, `phase 4 (Docs, new)`,
    `phase 5 (Cache, removed)`; the others keep their approval."""
    changed = []
    for index in range(1, max(len(before.phases), len(after.phases)) + 1):
        old = before.phases[index - 1] if index <= len(before.phases) else None
        new = after.phases[index - 1] if index <= len(after.phases) else None
        if new is None and old is not None:
            changed.append(f"phase {index} ({old.name}, removed)")
        elif old is None and new is not None:
            changed.append(f"phase {index} ({new.name}, new)")
        elif old != new and new is not None:
            changed.append(f"phase {index} ({new.name})")
    return changed
