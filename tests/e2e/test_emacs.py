"""A real Emacs with eglot (Debian's emacs-nox 28 and elpa-eglot 1.9), in batch mode, through
the demo's first two phases, five times in a row (a race once hung phase 2 in most runs).

eglot's own handlers do the work (tests/e2e/emacs.el): the `.env` diagnostic, the plan approved
through a code action (eglot shows no code lenses), each change asked in eglot's prompt and
written by the server (eglot declares no previews), the commands allowed, phase 2's failing
validation fixed by the model; then the files are as the demo makes them, the buffer of a
changed file is not left modified (no "changed on disk" question), and shutdown is prompt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plangate.demo.run import prepare
from plangate.demo.script import STEPS, TASK, TEST_PRIORITY, demo_model
from plangate.model.scripted import ScriptedServer

SCRIPT = Path(__file__).with_name("emacs.el")
RUNS = 5
RUN_TIMEOUT = 240  # seconds for one Emacs run, everything included


@pytest.fixture(scope="module")
def emacs() -> str:
    """Emacs with eglot, installed from Debian when missing; a visible skip when it cannot be."""
    found = shutil.which("emacs")
    if not _has_eglot(found) and shutil.which("apt-get"):
        for command in (
            ["apt-get", "install", "-y", "-q", "emacs-nox", "elpa-eglot"],
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "emacs-nox", "elpa-eglot"],
        ):
            try:
                subprocess.run(command, capture_output=True, timeout=600, check=False)
            except (OSError, subprocess.TimeoutExpired):
                break
            found = shutil.which("emacs")
            if _has_eglot(found):
                break
    if found is None or not _has_eglot(found):
        pytest.skip("Emacs e2e: emacs-nox and elpa-eglot are not installed and could not be")
    return found


def _has_eglot(emacs: str | None) -> bool:
    if emacs is None:
        return False
    done = subprocess.run(
        [emacs, "--batch", "--eval", "(progn (package-initialize) (require 'eglot))"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done.returncode == 0


def _expected(sample: Path) -> dict[str, str]:
    """The files after the demo's phases 1 and 2, its edits applied here in order."""
    files = {name: (sample / name).read_text() for name in ("app/db.py", "app/api.py")}
    for turn in STEPS:
        for call in turn.tool_calls:
            if call.name == "edit" and call.id.startswith(("d-db", "d-api", "d-fix")):
                path = call.input["file_path"]
                assert files[path].count(call.input["old_string"]) == 1, call.id
                files[path] = files[path].replace(
                    call.input["old_string"], call.input["new_string"]
                )
    return files


def _run(emacs: str, workspace: Path, out: Path, base_url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "PLANGATE_WS": str(workspace),
        "PLANGATE_PYTHON": sys.executable,
        "PLANGATE_TASK": TASK,
        "PLANGATE_OUT": str(out),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "offline-e2e",
        "HOME": str(workspace.parent),  # no user init file, no package state of the machine
    }
    done = subprocess.run(
        [emacs, "--batch", "--eval", "(package-initialize)", "-l", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=env,
        check=False,
    )
    assert out.exists(), f"Emacs wrote no report:\n{done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(out.read_text())
    assert done.returncode == 0 and report.get("ok"), (report.get("error"), done.stderr[-3000:])
    return report


@pytest.mark.timeout(RUNS * RUN_TIMEOUT + 120)
def test_emacs_eglot_runs_the_demo_phases_five_times(emacs: str, tmp_path: Path) -> None:
    for run in range(1, RUNS + 1):
        root = tmp_path / f"run-{run}"
        workspace = prepare(root / "tasks-api")
        expected = _expected(workspace)
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]
        subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
        subprocess.run([*git, "add", "-A"], cwd=workspace, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "start"], cwd=workspace, check=True)
        with ScriptedServer(demo_model) as scripted:
            report = _run(emacs, workspace, root / "report.json", scripted.base_url)
        where = f"run {run}: {[p.splitlines()[0] for p in report.get('prompts', [])]}"
        assert report["project"] == f"{workspace}/", where
        [diagnostic] = report["env_diagnostics"]
        assert "may not edit this file" in diagnostic and "**/*.env*" in diagnostic, where
        assert report["phases"][:3] == ["done", "done", "pending"], where
        assert report["db"] == expected["app/db.py"], where
        assert report["api"] == expected["app/api.py"], where
        assert (workspace / "tests" / "test_priority.py").read_text() == TEST_PRIORITY
        assert (workspace / ".env").read_text().startswith("DATABASE_URL="), where  # denied
        # The server wrote the files; the buffer of one was not edited behind the user's back.
        assert report["db_buffer_modified"] is False and report["supersession"] is None, where
        prompts = report["prompts"]
        assert any("Apply the change to app/db.py?" in p for p in prompts), where
        assert report["shutdown_seconds"] < 5, where
        log = subprocess.run(
            ["git", "log", "--oneline"], cwd=workspace, capture_output=True, text=True, check=True
        )
        assert len(log.stdout.splitlines()) == 1, "the denied `git commit` made a commit"
