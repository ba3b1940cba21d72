"""A phase's acceptance checks (the plan's `checks`): tests and commands run with the project's
own checks, through the same permission engine; files and routes are looked for here."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from plangate.tools.search import LIST_IGNORES
from plangate.workflow.plan import AcceptanceCheck, PhasePlan
from plangate.workflow.validation import Check, CheckResult

SOURCE = "plan"
# Files the tests are in: what a route check reads (bounded: a large repository has many).
_TEST_FILE = re.compile(r"(^|/)(tests?/.*|test_[^/]*|[^/]*_test\.[^/]*|[^/]*\.(test|spec)\.[^/]*)$")
_MAX_TEST_FILES = 2000


def commands(phase: PhasePlan) -> list[Check]:
    """The checks that run a command: a test by its id, or a command of the plan's."""
    found = []
    for check in phase.checks:
        if check.kind in ("test", "command"):
            command = _test_command(check.target) if check.kind == "test" else check.target
            found.append(Check(name=_name(check), command=command, source=SOURCE))
    return found


def _test_command(target: str) -> str:
    """pytest for a node id or a file, unittest for a dotted name; the id one quoted word."""
    if "::" in target or target.endswith(".py") or "/" in target:
        return f"python3 -m pytest -q {shlex.quote(target)}"
    return f"python3 -m unittest -q {shlex.quote(target)}"


def looked_up(phase: PhasePlan, workspace: Path) -> list[CheckResult]:
    """The results of the checks that need no command: files that must exist, routes the
    tests must name."""
    results = []
    for check in phase.checks:
        if check.kind == "file":
            path = (workspace / check.target).resolve()
            inside = path.is_relative_to(workspace.resolve())
            ok = inside and path.exists()
            said = "exists" if ok else "does not exist"
            results.append(_result(check, ok, f"{check.target} {said}"))
        elif check.kind == "route":
            where = _covering(workspace, check.target)
            said = f"named in {where}" if where else "named by no test file"
            results.append(_result(check, where is not None, f"{check.target}: {said}"))
    return results


def _covering(workspace: Path, route: str) -> str | None:
    """The first test file with a line that names the route's path (not as the end of a longer
    one) and, when given, its method (`client.post("/tasks")`, `"POST", "/tasks"`)."""
    method, _, path = route.strip().rpartition(" ")
    # `{id}` and `:id` stand for any one segment.
    segment = r"[^/\"'\s]+"
    pattern = re.compile(
        r"(?<![\w/.-])"
        + re.sub(r"\\\{[^}]*\\\}|:\w+", lambda _: segment, re.escape(path))
        + r"(?![\w/-])"
    )
    verb = re.compile(rf"\b{re.escape(method)}\b", re.I) if method else None
    seen = 0
    for folder, folders, files in os.walk(workspace):
        folders[:] = sorted(f for f in folders if f not in LIST_IGNORES)  # never walked into
        for name in sorted(files):
            file = Path(folder) / name
            relative = file.relative_to(workspace).as_posix()
            if not _TEST_FILE.search(relative):
                continue
            seen += 1
            if seen > _MAX_TEST_FILES:
                return None
            try:
                text = file.read_text("utf-8", errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                if pattern.search(line) and (verb is None or verb.search(line)):
                    return relative
    return None


def _name(check: AcceptanceCheck) -> str:
    """How the check is named in results: the criterion, and what checks it."""
    return f"acceptance: {check.criterion} ({check.kind} {check.target})"


def _result(check: AcceptanceCheck, passed: bool, text: str) -> CheckResult:
    return CheckResult(
        check=Check(name=_name(check), command=f"{check.kind} {check.target}", source=SOURCE),
        exit_code=0 if passed else 1,
        passed=passed,
        output_tail=text,
    )
