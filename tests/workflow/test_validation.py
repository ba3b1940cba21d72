"""Detecting a workspace's checks and reading their results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plangate.workflow.validation import (
    Check,
    CheckResult,
    detect_checks,
    parse_counts,
    result_for,
    summarize,
)

NPM_INIT_TEST = 'echo "Error: no test specified" && exit 1'


def write(root: Path, name: str, text: str = "") -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def package_json(root: Path, scripts: dict[str, str]) -> None:
    write(root, "package.json", json.dumps({"name": "app", "scripts": scripts}))


def commands(root: Path, extra: tuple[str, ...] = ()) -> list[str]:
    return [check.command for check in detect_checks(root, extra)]


# ---- detect_checks ----------------------------------------------------------------------------


def test_empty_workspace_has_no_checks(tmp_path: Path) -> None:
    assert detect_checks(tmp_path) == []


def test_npm_scripts_in_fixed_order(tmp_path: Path) -> None:
    package_json(
        tmp_path,
        {"build": "tsc -p .", "start": "node .", "lint": "eslint .", "test": "jest"},
    )
    checks = detect_checks(tmp_path)
    assert [c.name for c in checks] == ["npm test", "npm run lint", "npm run build"]
    assert checks[0] == Check(
        name="npm test", command="npm test", source="package.json scripts.test"
    )
    assert checks[2].source == "package.json scripts.build"


def test_npm_init_placeholder_test_is_skipped(tmp_path: Path) -> None:
    package_json(tmp_path, {"test": NPM_INIT_TEST, "lint": "eslint ."})
    assert commands(tmp_path) == ["npm run lint"]


def test_invalid_package_json_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '{"scripts": {"test": "jest",}')
    assert detect_checks(tmp_path) == []
    write(tmp_path, "package.json", '["not", "an", "object"]')
    assert detect_checks(tmp_path) == []


def test_tsconfig_adds_tsc(tmp_path: Path) -> None:
    write(tmp_path, "tsconfig.json", '{"compilerOptions": {"strict": true}}')
    package_json(tmp_path, {"test": "vitest run"})
    checks = detect_checks(tmp_path)
    assert [c.command for c in checks] == ["npm test", "npx tsc --noEmit"]
    assert checks[1].name == "tsc" and checks[1].source == "tsconfig.json"


def test_typecheck_script_replaces_tsc(tmp_path: Path) -> None:
    write(tmp_path, "tsconfig.json", "{}")
    package_json(tmp_path, {"typecheck": "tsc --noEmit", "build": "vite build"})
    assert commands(tmp_path) == ["npm run typecheck", "npm run build"]


def test_python_project_with_tools_in_pyproject(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "app"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n'
        "[tool.ruff]\nline-length = 100\n\n[tool.mypy]\nstrict = true\n",
    )
    checks = detect_checks(tmp_path)
    assert [(c.name, c.command, c.source) for c in checks] == [
        ("pytest", "python -m pytest -q", "pyproject.toml"),
        ("ruff", "ruff check .", "pyproject.toml"),
        ("mypy", "mypy .", "pyproject.toml"),
    ]


def test_pyproject_without_tests_or_tool_config_has_no_checks(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "app"\n')
    write(tmp_path, "app/main.py", "print('hi')\n")
    assert detect_checks(tmp_path) == []


def test_setup_py_with_tests_folder_runs_pytest(tmp_path: Path) -> None:
    write(tmp_path, "setup.py", "from setuptools import setup\nsetup()\n")
    (tmp_path / "tests").mkdir()
    checks = detect_checks(tmp_path)
    assert [(c.command, c.source) for c in checks] == [("python -m pytest -q", "tests/")]


def test_test_files_alone_make_a_python_project(tmp_path: Path) -> None:
    write(tmp_path, "calc_test.py", "def test_add():\n    assert 1 + 1 == 2\n")
    checks = detect_checks(tmp_path)
    assert [(c.command, c.source) for c in checks] == [("python -m pytest -q", "calc_test.py")]


def test_nested_test_file_under_tests(tmp_path: Path) -> None:
    write(tmp_path, "setup.cfg", "[metadata]\nname = app\n")
    write(tmp_path, "tests/unit/test_core.py", "def test_x():\n    pass\n")
    assert commands(tmp_path) == ["python -m pytest -q"]


def test_js_tests_folder_is_not_python(tmp_path: Path) -> None:
    package_json(tmp_path, {"test": "mocha"})
    write(tmp_path, "tests/app.test.js", "describe('app', () => {});\n")
    assert commands(tmp_path) == ["npm test"]


def test_ruff_toml_and_mypy_ini(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[project]\nname = 'app'\n")
    write(tmp_path, ".ruff.toml", "line-length = 88\n")
    write(tmp_path, "mypy.ini", "[mypy]\nstrict = True\n")
    checks = detect_checks(tmp_path)
    assert [(c.name, c.source) for c in checks] == [("ruff", ".ruff.toml"), ("mypy", "mypy.ini")]


def test_project_venv_tools_are_preferred(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.ruff]\n[tool.mypy]\n")
    (tmp_path / "tests").mkdir()
    for tool in ("python", "ruff"):
        write(tmp_path, f".venv/bin/{tool}")
    assert commands(tmp_path) == [
        ".venv/bin/python -m pytest -q",
        ".venv/bin/ruff check .",
        "mypy .",
    ]


def test_invalid_pyproject_still_python_project(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.ruff\nline-length = ")
    write(tmp_path, "tests/test_a.py", "def test_a():\n    pass\n")
    assert commands(tmp_path) == ["python -m pytest -q"]


def test_go_and_cargo(tmp_path: Path) -> None:
    write(tmp_path, "go.mod", "module example.com/app\n\ngo 1.22\n")
    write(tmp_path, "Cargo.toml", '[package]\nname = "app"\nversion = "0.1.0"\n')
    checks = detect_checks(tmp_path)
    assert [(c.name, c.command, c.source) for c in checks] == [
        ("go test", "go test ./...", "go.mod"),
        ("cargo test", "cargo test", "Cargo.toml"),
    ]


def test_plangate_config_commands(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".plangate/config.toml",
        'validate = ["make check", "  ", 7]\n\n[validation]\ncommands = ["./scripts/e2e.sh"]\n',
    )
    checks = detect_checks(tmp_path)
    assert checks == [
        Check(name="custom: make check", command="make check", source=".plangate/config.toml"),
        Check(
            name="custom: ./scripts/e2e.sh",
            command="./scripts/e2e.sh",
            source=".plangate/config.toml",
        ),
    ]


def test_invalid_plangate_config_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, ".plangate/config.toml", 'validate = ["make check"\n')
    write(tmp_path, "go.mod", "module m\n")
    assert commands(tmp_path) == ["go test ./..."]


def test_extra_commands_come_last_from_agent(tmp_path: Path) -> None:
    write(tmp_path, "go.mod", "module m\n")
    checks = detect_checks(tmp_path, ["make lint", ""])
    assert checks[-1] == Check(name="custom: make lint", command="make lint", source="agent")
    assert len(checks) == 2


def test_duplicate_commands_keep_the_first(tmp_path: Path) -> None:
    package_json(tmp_path, {"test": "jest", "lint": "eslint ."})
    checks = detect_checks(tmp_path, ("npm test", "make docs"))
    assert [(c.command, c.source) for c in checks] == [
        ("npm test", "package.json scripts.test"),
        ("npm run lint", "package.json scripts.lint"),
        ("make docs", "agent"),
    ]


def test_configured_checks_replace_detection(tmp_path: Path) -> None:
    package_json(tmp_path, {"test": "jest"})
    write(tmp_path, ".plangate/config.toml", 'validate = ["npm test", "make e2e"]\n')
    checks = detect_checks(tmp_path, ("make e2e", "make docs"))
    assert [(c.command, c.source) for c in checks] == [
        ("npm test", ".plangate/config.toml"),
        ("make e2e", ".plangate/config.toml"),
        ("make docs", "agent"),
    ]


# ---- parse_counts -----------------------------------------------------------------------------

PYTEST_MIXED = """\
============================= test session starts ==============================
platform linux -- Python 3.11.9, pytest-8.3.2, pluggy-1.5.0
rootdir: /work/app
collected 8 items

tests/test_calc.py ..F.sEss                                                [100%]

=================================== FAILURES ===================================
_________________________________ test_divide __________________________________
    def test_divide():
>       assert divide(1, 0) == 0
E       ZeroDivisionError: division by zero
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_divide - ZeroDivisionError: division by zero
ERROR tests/test_calc.py::test_db - ConnectionRefusedError
========== 1 failed, 3 passed, 3 skipped, 1 warning, 2 errors in 0.12s =========
"""

PYTEST_QUIET_PASS = """\
............                                                             [100%]
12 passed in 0.31s
"""

PYTEST_ONLY_FAILED = """\
F                                                                        [100%]
=================================== FAILURES ===================================
FAILED tests/test_a.py::test_a - assert 1 == 2
1 failed in 0.05s
"""

UNITTEST_OK = """\
.....
----------------------------------------------------------------------
Ran 5 tests in 0.002s

OK
"""

UNITTEST_FAILED = """\
.FE..s
======================================================================
ERROR: test_load (test_store.StoreTest.test_load)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/work/app/test_store.py", line 12, in test_load
    store.load()
FileNotFoundError: data.json
======================================================================
FAIL: test_save (test_store.StoreTest.test_save)
----------------------------------------------------------------------
AssertionError: 1 != 2

----------------------------------------------------------------------
Ran 6 tests in 0.004s

FAILED (failures=1, errors=1, skipped=1)
"""

JEST = """\
PASS src/sum.test.js
FAIL src/divide.test.js
  \u25cf divide \u203a by zero

    expect(received).toBe(expected) // Object.is equality

    Expected: 0
    Received: Infinity

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 1 skipped, 3 passed, 5 total
Snapshots:   0 total
Time:        0.512 s
Ran all test suites.
"""

VITEST = """\
 \u2713 src/sum.test.ts (3 tests) 2ms
 \u276f src/divide.test.ts (4 tests | 2 failed) 5ms

 Test Files  1 failed | 1 passed (2)
      Tests  2 failed | 5 passed (7)
   Start at  10:21:07
   Duration  412ms (transform 40ms, setup 0ms, collect 51ms, tests 7ms)
"""

MOCHA = """\

  Array
    #indexOf()
      \u2714 should return -1 when the value is not present
      \u2714 should return the index
      1) should handle NaN


  3 passing (9ms)
  1 failing

  1) Array
       #indexOf()
         should handle NaN:
     AssertionError [ERR_ASSERTION]: -1 == 0
      at Context.<anonymous> (test/array.spec.js:12:14)
"""

NODE_TAP = """\
TAP version 13
# Subtest: adds
ok 1 - adds
  ---
  duration_ms: 0.51
  ...
# Subtest: divides
not ok 2 - divides
  ---
  duration_ms: 0.62
  failureType: 'testCodeFailure'
  ...
1..4
# tests 4
# suites 0
# pass 3
# fail 1
# cancelled 0
# skipped 0
# todo 0
# duration_ms 48.1
"""

NODE_SPEC = """\
\u2714 adds (0.5ms)
\u2716 divides (0.7ms)
\u2139 tests 2
\u2139 suites 0
\u2139 pass 1
\u2139 fail 1
\u2139 cancelled 0
\u2139 duration_ms 40.2
"""

GO_VERBOSE = """\
=== RUN   TestAdd
--- PASS: TestAdd (0.00s)
=== RUN   TestDivide
=== RUN   TestDivide/by_zero
    calc_test.go:21: expected error, got nil
=== RUN   TestDivide/normal
--- FAIL: TestDivide (0.00s)
    --- FAIL: TestDivide/by_zero (0.00s)
    --- PASS: TestDivide/normal (0.00s)
FAIL
FAIL\texample.com/calc\t0.003s
ok  \texample.com/calc/format\t0.002s
FAIL
"""

GO_PACKAGES = """\
ok  \texample.com/app/api\t0.012s
?   \texample.com/app/cmd\t[no test files]
ok  \texample.com/app/store\t(cached)
"""

CARGO = """\
   Compiling calc v0.1.0 (/work/calc)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.91s
     Running unittests src/lib.rs (target/debug/deps/calc-1f2e3d4c5b6a7980)

running 3 tests
test tests::adds ... ok
test tests::divides ... FAILED
test tests::parses ... ok

test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/cli.rs (target/debug/deps/cli-0a1b2c3d4e5f6789)

running 2 tests
test help ... ok
test version ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

   Doc-tests calc

running 1 test
test src/lib.rs - add (line 3) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.15s
"""

PLAIN = """\
running integration suite against http://localhost:8080
  login ........ ok
  checkout ..... FAIL
summary: 11 passed, 1 failed
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param(PYTEST_MIXED, (3, 3), id="pytest-failed-and-errors"),
        pytest.param(PYTEST_QUIET_PASS, (12, 0), id="pytest-quiet-pass"),
        pytest.param(PYTEST_ONLY_FAILED, (0, 1), id="pytest-only-failed"),
        pytest.param(UNITTEST_OK, (5, 0), id="unittest-ok"),
        pytest.param(UNITTEST_FAILED, (3, 2), id="unittest-failed"),
        pytest.param(JEST, (3, 1), id="jest"),
        pytest.param(VITEST, (5, 2), id="vitest"),
        pytest.param(MOCHA, (3, 1), id="mocha"),
        pytest.param(NODE_TAP, (3, 1), id="node-tap"),
        pytest.param(NODE_SPEC, (1, 1), id="node-spec"),
        pytest.param(GO_VERBOSE, (2, 2), id="go-verbose"),
        pytest.param(GO_PACKAGES, (2, 0), id="go-packages"),
        pytest.param(CARGO, (5, 1), id="cargo-summed"),
        pytest.param(PLAIN, (11, 1), id="plain"),
    ],
)
def test_parse_counts(output: str, expected: tuple[int, int]) -> None:
    assert parse_counts(output) == expected


def test_parse_counts_nothing_recognised() -> None:
    tsc = "src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n"
    assert parse_counts(tsc) == (None, None)
    assert parse_counts("") == (None, None)


def test_parse_counts_uses_the_last_summary() -> None:
    # A rerun after a fix prints a second summary; the earlier one is stale.
    output = "1 failed, 4 passed in 0.20s\n...\n5 passed in 0.18s\n"
    assert parse_counts(output) == (5, 0)


def test_parse_counts_last_runner_wins_over_echoed_text() -> None:
    # A failing test's traceback may quote another runner's summary; the real one comes last.
    output = (
        'E   assert parse("Tests:  1 failed, 3 passed, 4 total")\n2 failed, 9 passed in 1.02s\n'
    )
    assert parse_counts(output) == (9, 2)


def test_parse_counts_ignores_colour_codes() -> None:
    output = "\x1b[32m\x1b[1m7 passed\x1b[0m\x1b[32m in 0.04s\x1b[0m\r\n"
    assert parse_counts(output) == (7, 0)


# ---- result_for and summarize -----------------------------------------------------------------

PYTEST_CHECK = Check(name="pytest", command="python -m pytest -q", source="pyproject.toml")
NPM_TEST = Check(name="npm test", command="npm test", source="package.json scripts.test")
TSC = Check(name="tsc", command="npx tsc --noEmit", source="tsconfig.json")


def test_result_for_passing_run() -> None:
    result = result_for(PYTEST_CHECK, 0, PYTEST_QUIET_PASS, seconds=1.5, log_path="/tmp/p.log")
    assert result.passed
    assert (result.passed_count, result.failed_count) == (12, 0)
    assert result.output_tail == PYTEST_QUIET_PASS
    assert (result.seconds, result.log_path, result.refused) == (1.5, "/tmp/p.log", None)


def test_result_for_failures_despite_exit_zero() -> None:
    # Some wrappers swallow the exit code; reported failures still fail the check.
    assert not result_for(NPM_TEST, 0, JEST).passed


def test_result_for_nonzero_exit_and_no_exit_code() -> None:
    assert not result_for(TSC, 2, "error TS2322").passed
    assert not result_for(TSC, None, "").passed


def test_result_for_keeps_only_the_tail() -> None:
    output = "x" * 10_000 + "\n12 passed in 0.31s\n"
    result = result_for(PYTEST_CHECK, 0, output)
    assert len(result.output_tail) == 4000
    assert result.output_tail.endswith("12 passed in 0.31s\n")
    assert result.passed_count == 12


def test_summarize_lines() -> None:
    refused = CheckResult(check=TSC, exit_code=None, passed=False, refused="user said no\nto npx")
    timed_out = CheckResult(check=TSC, exit_code=None, passed=False)
    results = [
        result_for(PYTEST_CHECK, 0, PYTEST_QUIET_PASS),
        result_for(NPM_TEST, 1, JEST),
        result_for(TSC, 0, ""),
        result_for(TSC, 2, "error TS2322"),
        refused,
        timed_out,
    ]
    assert summarize(results).splitlines() == [
        "PASS pytest (12 passed)",
        "FAIL npm test (3 passed, 1 failed; exit 1)",
        "PASS tsc",
        "FAIL tsc (exit 2)",
        "SKIP tsc (refused: user said no to npx)",
        "FAIL tsc (did not finish)",
    ]


def test_summarize_nothing() -> None:
    assert summarize([]) == ""
