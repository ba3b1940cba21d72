"""`plangate demo`: a whole backend-developer session, offline, on a copy of the sample API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import TextIO

from plangate.agents import find_agent
from plangate.demo.script import TASK, demo_model
from plangate.layout import DEFAULT_AGENT, Layout
from plangate.model.scripted import ScriptedServer
from plangate.terminal.runner import drive, terminal_session
from plangate.workflow.launch import open_session
from plangate.workflow.state import SessionState

CHECK = "python3 -m unittest discover -s tests -t . -q"


def sample_dir() -> Path:
    """The sample project shipped with PlanGate."""
    return Path(str(resources.files("plangate.demo").joinpath("sample")))


def prepare(target: Path) -> Path:
    """Copy the sample to `target` with its validation config and a secret to protect."""
    shutil.copytree(sample_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / ".env").write_text("DATABASE_URL=sqlite:///tasks.db\n")
    layout = Layout(target)
    layout.root.mkdir(exist_ok=True)
    layout.config.write_text(f'validate = ["{CHECK}"]\n')
    return target


def run_demo(out: TextIO, workspace: Path | None = None) -> tuple[int, SessionState, Path]:
    """Run the demo session; returns the exit status, the final state and the project path."""
    started = time.monotonic()
    root = workspace or Path(tempfile.mkdtemp(prefix="plangate-demo-")) / "tasks-api"
    project = prepare(root)
    agent = find_agent(DEFAULT_AGENT, project)
    print(
        f"PlanGate demo: the backend-developer agent on a sample API, offline.\n"
        f"Project: {project}\nTask: {TASK}\n"
        "Everything the engine asks is approved automatically (--approve plan,phases,"
        "amendments,edits,commands); denials still stand.\n",
        file=out,
        flush=True,
    )
    approve = frozenset({"plan", "phases", "amendments", "edits", "commands"})
    with ScriptedServer(demo_model) as server:
        printer, approvals = terminal_session(out, approve)
        session = open_session(
            agent,
            project,
            approvals,
            task=TASK,
            api_key="offline-demo",
            base_url=server.base_url,
            on_event=printer,
        )
        state = drive(session, printer, out)
    denied = [
        r["text"].splitlines()[0]
        for r in state.results.values()
        if r["is_error"] and ("denied" in r["text"] or "not allowed" in r["text"])
    ]
    check = subprocess.run(
        CHECK.split(), cwd=project, capture_output=True, text=True, timeout=120, check=False
    )
    tests = [line for line in (check.stdout + check.stderr).splitlines() if line.startswith("Ran ")]
    print("\nPlan amendments (approved):", file=out)
    for amendment in state.amendments:
        print(f"  - phase {amendment.phase} also changes {', '.join(amendment.files)}", file=out)
    print("\nWhat the engine refused:", file=out)
    for line in denied:
        print(f"  - {line}", file=out)
    print(
        f"\nThe sample's tests now: {tests[0] if tests else ''} "
        f"{'OK' if check.returncode == 0 else 'FAILED'}",
        file=out,
    )
    plan = os.path.relpath(session.plan_document(), project)
    print(f"Changed project: {project} (plan in {plan})", file=out)
    print(f"Finished in {time.monotonic() - started:.1f} s.", file=out, flush=True)
    ok = state.status.value == "completed" and check.returncode == 0
    return (0 if ok else 1), state, project


def main(out: TextIO = sys.stdout) -> int:
    """Entry point of `plangate demo`."""
    status, _, _ = run_demo(out)
    return status
