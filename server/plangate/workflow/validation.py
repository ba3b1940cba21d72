"""Find a workspace's own checks and read their results.

After each phase of work PlanGate validates the workspace with the checks the project already
uses (its test runner, linter, type checker). This module only detects those checks and parses
what they print; the engine runs the commands through the permission engine and the bash tool.

Over 350 lines because each ecosystem's detection and output parser (npm, Python, Go, Rust,
the workspace's own config) is a few short functions that read best side by side.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from plangate.layout import STATE_DIR, Layout

# The check output kept in a result: enough to see the failures and the closing summary.
TAIL_CHARS = 4000

NPM_SCRIPTS = (
    ("test", "npm test"),
    ("lint", "npm run lint"),
    ("typecheck", "npm run typecheck"),
    ("build", "npm run build"),
)
# `npm init` writes this test script; running it only ever fails.
NPM_PLACEHOLDER = "no test specified"
CONFIG_FILE = f"{STATE_DIR}/config.toml"


class Check(BaseModel):
    """A command that validates the workspace, and where it was found."""

    model_config = ConfigDict(frozen=True)

    name: str
    command: str
    source: str


class CheckResult(BaseModel):
    """The outcome of one check; `exit_code` is None when it did not run or did not finish."""

    check: Check
    exit_code: int | None
    passed: bool
    passed_count: int | None = None
    failed_count: int | None = None
    output_tail: str = ""
    seconds: float = 0.0
    log_path: str | None = None
    refused: str | None = None


def detect_checks(workspace: Path, extra: Sequence[str] = ()) -> list[Check]:
    """The checks a workspace defines, in a fixed order, without repeating a command.

    `extra` are commands the agent file asks for; they come last. A project that lists its
    checks in `.plangate/config.toml` gets exactly those: it knows better than our guesses.
    """
    configured = [
        Check(name=f"custom: {cmd}", command=cmd, source=CONFIG_FILE)
        for cmd in _config_commands(Layout(workspace).config)
    ]
    detected = (
        []
        if configured
        else [*_node_checks(workspace), *_python_checks(workspace), *_native_checks(workspace)]
    )
    checks = [
        *detected,
        *configured,
        *(
            Check(name=f"custom: {cmd}", command=cmd, source="agent")
            for cmd in _commands(list(extra))
        ),
    ]
    seen: set[str] = set()
    unique: list[Check] = []
    for check in checks:
        if check.command not in seen:
            seen.add(check.command)
            unique.append(check)
    return unique


def _node_checks(workspace: Path) -> list[Check]:
    scripts = _json_object(workspace / "package.json").get("scripts")
    if not isinstance(scripts, dict):
        scripts = {}
    checks = []
    for script, command in NPM_SCRIPTS:
        body = scripts.get(script)
        if not isinstance(body, str) or not body.strip():
            continue
        if script == "test" and NPM_PLACEHOLDER in body:
            continue
        checks.append(Check(name=command, command=command, source=f"package.json scripts.{script}"))
    # A typecheck script is the project's own way to run tsc; running both repeats the work.
    has_typecheck = any(check.name == "npm run typecheck" for check in checks)
    if (workspace / "tsconfig.json").is_file() and not has_typecheck:
        checks.append(Check(name="tsc", command="npx tsc --noEmit", source="tsconfig.json"))
    return checks


def _python_checks(workspace: Path) -> list[Check]:
    tool = _toml(workspace / "pyproject.toml").get("tool")
    if not isinstance(tool, dict):
        tool = {}
    test_file = _first_test_file(workspace)
    markers = ("pyproject.toml", "setup.py", "setup.cfg")
    is_python = test_file is not None or any((workspace / m).is_file() for m in markers)
    checks = []
    if is_python:
        pytest_source = test_file
        if "pytest" in tool:
            pytest_source = "pyproject.toml"
        elif (workspace / "tests").is_dir():
            pytest_source = "tests/"
        if pytest_source is not None:
            python = _venv_tool(workspace, "python")
            checks.append(
                Check(name="pytest", command=f"{python} -m pytest -q", source=pytest_source)
            )
    ruff_source = (
        "pyproject.toml" if "ruff" in tool else _first_file(workspace, "ruff.toml", ".ruff.toml")
    )
    if ruff_source is not None:
        ruff = _venv_tool(workspace, "ruff")
        checks.append(Check(name="ruff", command=f"{ruff} check .", source=ruff_source))
    mypy_source = (
        "pyproject.toml" if "mypy" in tool else _first_file(workspace, "mypy.ini", ".mypy.ini")
    )
    if mypy_source is not None:
        mypy = _venv_tool(workspace, "mypy")
        checks.append(Check(name="mypy", command=f"{mypy} .", source=mypy_source))
    return checks


def _native_checks(workspace: Path) -> list[Check]:
    checks = []
    if (workspace / "go.mod").is_file():
        checks.append(Check(name="go test", command="go test ./...", source="go.mod"))
    if (workspace / "Cargo.toml").is_file():
        checks.append(Check(name="cargo test", command="cargo test", source="Cargo.toml"))
    return checks


def _first_test_file(workspace: Path) -> str | None:
    # Tests live under tests/ at any depth or beside the code at the root.
    patterns = ("test_*.py", "*_test.py")
    found = (
        path
        for pattern in patterns
        for path in chain(workspace.glob(pattern), (workspace / "tests").rglob(pattern))
        if path.is_file()
    )
    first = next(found, None)
    return None if first is None else first.relative_to(workspace).as_posix()


def _first_file(workspace: Path, *names: str) -> str | None:
    return next((name for name in names if (workspace / name).is_file()), None)


def _venv_tool(workspace: Path, tool: str) -> str:
    # The project's virtualenv has its dependencies; a bare name may find another interpreter.
    local = f".venv/bin/{tool}"
    return local if (workspace / local).is_file() else tool


def _config_commands(path: Path) -> list[str]:
    config = _toml(path)
    section = config.get("validation")
    listed = [
        config.get("validate"),
        section.get("commands") if isinstance(section, dict) else None,
    ]
    return _commands([cmd for value in listed if isinstance(value, list) for cmd in value])


def _commands(values: list[Any]) -> list[str]:
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _json_object(path: Path) -> dict[str, Any]:
    # A broken or missing project file means no checks from it, never a failed validation.
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


# ---- Parsing results --------------------------------------------------------------------------

# A parser finds its runner's summary and returns where it ends in the output (so the summary
# printed last wins when a command runs several tools) and the (passed, failed) counts.
Found = tuple[int, int, int] | None

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PYTEST_LINE = re.compile(
    r"^=*\s*((?:\d+ \w+, )*\d+ \w+) in \d+(?:\.\d+)?s(?:econds)?\b.*$", re.MULTILINE
)
JEST_LINE = re.compile(r"^\s*Tests:?\s+\d+ .*$", re.MULTILINE)
CARGO_LINE = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed;.*$", re.MULTILINE)
UNITTEST = re.compile(r"^Ran (\d+) tests? in .*\n+(OK|FAILED)\b(?: \(([^)]*)\))?.*$", re.MULTILINE)
MOCHA_PASSING = re.compile(r"^\s*(\d+) passing\b.*$", re.MULTILINE)
MOCHA_FAILING = re.compile(r"^\s*(\d+) failing\b.*$", re.MULTILINE)
# TAP prints `# pass 3`; the default spec reporter prints `\u2139 pass 3` (an info sign).
NODE_PASS = re.compile(r"^\s*(?:#|\u2139) pass (\d+)\s*$", re.MULTILINE)
NODE_FAIL = re.compile(r"^\s*(?:#|\u2139) fail (\d+)\s*$", re.MULTILINE)
GO_TEST_PASS = re.compile(r"^\s*--- PASS: .*$", re.MULTILINE)
GO_TEST_FAIL = re.compile(r"^\s*--- FAIL: .*$", re.MULTILINE)
GO_PKG_OK = re.compile(r"^ok\s+\S+.*$", re.MULTILINE)
# A failing package is `FAIL<tab>path<tab>time`; a bare `FAIL` line precedes it.
GO_PKG_FAIL = re.compile(r"^FAIL\s+\S+.*$", re.MULTILINE)
PLAIN_LINE = re.compile(r"^.*\b\d+ passed\b.*\b\d+ failed\b.*$", re.MULTILINE)


def _counted(text: str, pattern: str) -> int:
    match = re.search(rf"\b(\d+) {pattern}\b", text)
    return int(match.group(1)) if match else 0


def _pytest(output: str) -> Found:
    matches = list(PYTEST_LINE.finditer(output))
    if not matches:
        return None
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", matches[-1].group(1))}
    failed = counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0)
    return matches[-1].end(), counts.get("passed", 0), failed


def _jest(output: str) -> Found:
    # jest: `Tests:       1 failed, 3 passed, 4 total`; vitest: `Tests  2 failed | 5 passed (7)`.
    matches = list(JEST_LINE.finditer(output))
    if not matches:
        return None
    line = matches[-1].group(0)
    return matches[-1].end(), _counted(line, "passed"), _counted(line, "failed")


def _cargo(output: str) -> Found:
    # One result line per test binary (unit, each integration file, doc tests): add them up.
    matches = list(CARGO_LINE.finditer(output))
    if not matches:
        return None
    passed = sum(int(m.group(1)) for m in matches)
    return matches[-1].end(), passed, sum(int(m.group(2)) for m in matches)


def _unittest(output: str) -> Found:
    matches = list(UNITTEST.finditer(output))
    if not matches:
        return None
    last = matches[-1]
    details = {key.strip(): int(n) for key, n in re.findall(r"([\w ]+)=(\d+)", last.group(3) or "")}
    failed = sum(details.get(k, 0) for k in ("failures", "errors", "unexpected successes"))
    not_run = details.get("skipped", 0) + details.get("expected failures", 0)
    return last.end(), max(int(last.group(1)) - failed - not_run, 0), failed


def _last_pair(output: str, passed_re: re.Pattern[str], failed_re: re.Pattern[str]) -> Found:
    passed = list(passed_re.finditer(output))
    failed = list(failed_re.finditer(output))
    if not passed and not failed:
        return None
    end = max(m.end() for m in passed[-1:] + failed[-1:])
    return end, int(passed[-1].group(1)) if passed else 0, int(failed[-1].group(1)) if failed else 0


def _mocha(output: str) -> Found:
    return _last_pair(output, MOCHA_PASSING, MOCHA_FAILING)


def _node(output: str) -> Found:
    return _last_pair(output, NODE_PASS, NODE_FAIL)


def _go(output: str) -> Found:
    # `go test -v` lists every test; without -v only failing tests are, so fall back to packages.
    for passed_re, failed_re in ((GO_TEST_PASS, GO_TEST_FAIL), (GO_PKG_OK, GO_PKG_FAIL)):
        passed = list(passed_re.finditer(output))
        failed = list(failed_re.finditer(output))
        if passed or failed:
            return max(m.end() for m in passed[-1:] + failed[-1:]), len(passed), len(failed)
    return None


def _plain(output: str) -> Found:
    matches = list(PLAIN_LINE.finditer(output))
    if not matches:
        return None
    line = matches[-1].group(0)
    return matches[-1].end(), _counted(line, "passed"), _counted(line, "failed")


# Most specific first: on a tie (the same summary line read by two parsers) the earlier wins.
PARSERS: tuple[Callable[[str], Found], ...] = (
    _cargo,
    _jest,
    _pytest,
    _unittest,
    _mocha,
    _node,
    _go,
    _plain,
)


def parse_counts(output: str) -> tuple[int | None, int | None]:
    """(passed, failed) from a test runner's summary, or (None, None) when none is recognised.

    Knows pytest, unittest, jest, vitest, mocha, node's test runner, go test, cargo test and a
    plain `N passed, N failed` line. When several summaries appear the last one printed counts.
    """
    text = ANSI.sub("", output).replace("\r\n", "\n")
    best: tuple[int, int, int] | None = None
    for parser in PARSERS:
        found = parser(text)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
    return (None, None) if best is None else (best[1], best[2])


def result_for(
    check: Check,
    exit_code: int | None,
    output: str,
    seconds: float = 0.0,
    log_path: str | None = None,
) -> CheckResult:
    """The result of a check that ran: counts from its output, and passed only when it exited 0
    with no failed tests reported."""
    passed_count, failed_count = parse_counts(output)
    return CheckResult(
        check=check,
        exit_code=exit_code,
        passed=exit_code == 0 and failed_count in (None, 0),
        passed_count=passed_count,
        failed_count=failed_count,
        output_tail=output[-TAIL_CHARS:],
        seconds=seconds,
        log_path=log_path,
    )


def summarize(results: Sequence[CheckResult]) -> str:
    """One line per check, e.g. `PASS pytest (12 passed)` or `FAIL npm test (3 passed, 1 failed;
    exit 1)` or `SKIP tsc (refused: ...)`."""
    return "\n".join(_summary_line(result) for result in results)


def _summary_line(result: CheckResult) -> str:
    name = result.check.name
    if result.refused is not None:
        # Keep the reason on the check's own line.
        return f"SKIP {name} (refused: {' '.join(result.refused.split())})"
    parts = []
    if result.passed_count is not None:
        parts.append(f"{result.passed_count} passed")
    if result.failed_count:
        parts.append(f"{result.failed_count} failed")
    counts = ", ".join(parts)
    if result.passed:
        return f"PASS {name} ({counts})" if counts else f"PASS {name}"
    status = "did not finish" if result.exit_code is None else f"exit {result.exit_code}"
    return f"FAIL {name} ({counts}; {status})" if counts else f"FAIL {name} ({status})"
