"""`plangate run --plan FILE --approved`: a plan document approved in review runs unattended
in CI, every rule still in force; a change outside what it declares stops the run, showing the
amendment's diff, with nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.log import EventLog
from plangate.workflow.plan import Plan, render_markdown
from plangate.workflow.state import replay
from tests.workflow.scenario import Model, make_workspace, plan_input

OFFLINE = {**os.environ, "ANTHROPIC_API_KEY": "offline-test", "NO_COLOR": "1"}
FIX = {"file_path": "app.py", "old_string": "a - b", "new_string": "a + b"}


def _plangate(*args: str) -> subprocess.CompletedProcess[str]:
    """`plangate ARGS`, offline, nothing on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "plangate.cli", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env=OFFLINE,
        check=False,
    )


def _reviewed_plan(workspace: Path) -> Path:
    """The plan document as committed for review (here: beside the project)."""
    document = workspace.parent / "plan.md"
    document.write_text(render_markdown(Plan.model_validate(plan_input()).with_documentation()))
    return document


def _run(workspace: Path, steps: list[ScriptedTurn], *extra: str) -> tuple[int, str, str]:
    """The CI command line; its exit code, its output and the session's id."""
    plan = _reviewed_plan(workspace)
    with ScriptedServer(Model(steps)) as server:
        done = _plangate(
            "run",
            "--plan",
            str(plan),
            "--approved",
            *extra,
            "--workspace",
            str(workspace),
            "--base-url",
            server.base_url,
        )
    [session_id] = [p.name for p in (workspace / ".plangate" / "sessions").iterdir()]
    return done.returncode, done.stdout + done.stderr, session_id


def test_an_approved_plan_runs_unattended_to_the_end(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    steps = [
        ScriptedTurn(tool_calls=[ToolUse("read", {"file_path": "app.py"}, id="t-read")]),
        ScriptedTurn(tool_calls=[ToolUse("edit", FIX, id="t-fix")]),
        ScriptedTurn(
            tool_calls=[ToolUse("bash", {"command": "echo fixed >> CHANGES.txt"}, id="t-log")]
        ),
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "fixed"}, id="t-done1")]),
        ScriptedTurn(
            tool_calls=[
                ToolUse("write", {"file_path": "docs/api.md", "content": "# add\n"}, id="t-doc")
            ]
        ),
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "docs"}, id="t-done2")]),
    ]
    code, out, session_id = _run(workspace, steps)
    assert code == 0, out[-3000:]
    assert (workspace / "app.py").read_text().endswith("a + b\n")
    assert (workspace / "docs" / "api.md").read_text() == "# add\n"
    state = replay(
        list(EventLog(workspace / ".plangate" / "sessions" / session_id / "events.jsonl").read())
    )
    assert state.status.value == "completed"
    approvals = {a.by for a in state.answers.values()}
    assert any(b and b.startswith("approved in review (") for b in approvals), approvals
    # The rules still hold: the seed asks before a command that writes; with no one there to
    # ask, it is not run.
    assert state.results["t-log"]["is_error"], state.results["t-log"]
    assert not (workspace / "CHANGES.txt").exists()
    assert "no one (an unattended run)" in approvals
    # The model was not asked for a plan: it got the reviewed one.
    assert state.plan_version == 1 and state.plan is not None and state.plan.title == "Fix add()"


def test_an_amendment_stops_the_run_with_its_diff(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    steps = [
        ScriptedTurn(
            text="util.py needs the same fix.",
            tool_calls=[
                ToolUse("write", {"file_path": "util.py", "content": "X = 1\n"}, id="t-util")
            ],
        ),
    ]
    code, out, session_id = _run(workspace, steps)
    assert code == 1, out[-3000:]
    assert not (workspace / "util.py").exists()
    assert "+- `util.py`" in out  # the amendment, as a diff of the plan
    assert "needs a person" in out and f"plangate resume {session_id}" in out
    state = replay(
        list(EventLog(workspace / ".plangate" / "sessions" / session_id / "events.jsonl").read())
    )
    assert state.status.value == "paused" and "Phase 1 also changes util.py" in state.reason


def test_a_plan_file_that_is_not_a_plan_is_refused_at_its_line(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    bad = tmp_path / "plan.md"
    bad.write_text("# Plan\n\nSummary\n\n## Phase 2: Skipped one\n")
    done = _plangate("run", "--plan", str(bad), "--approved", "--workspace", str(workspace))
    assert done.returncode == 2
    assert f"{bad}:5: expected phase 1 here" in done.stderr
    assert not (workspace / ".plangate" / "sessions").exists()
