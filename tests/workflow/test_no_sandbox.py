"""A whole session on a machine without bubblewrap: the model's commands are asked, with the
reason, and the phase's checks (the user's config) are not asked again for it."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from plangate.agents import Agent
from plangate.model.scripted import ScriptedServer
from plangate.permissions import Action, Rule
from plangate.workflow.approvals import ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import Status

from .scenario import Model, make_workspace, provider

CHECK = "python3 -m unittest -q check_app"  # what make_workspace's config.toml validates with
# What the session runs: the shell, git for the checkpoints (python3 is this interpreter: a
# pyenv shim on PATH needs pyenv itself).
PROGRAMS = ("bash", "sh", "git", "cat", "ls", "env")


@pytest.fixture
def no_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH with the session's programs and no bwrap."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in PROGRAMS:
        found = shutil.which(name)
        assert found is not None, f"{name} is needed by this test"
        os.symlink(found, bin_dir / name)
    os.symlink(os.path.realpath(sys.executable), bin_dir / "python3")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("bwrap") is None


def test_checks_run_unasked_the_models_command_is_asked(
    no_bwrap: None, seed_agent: Agent, tmp_path: Path
) -> None:
    # The rules allow the check, so only the missing sandbox could make it a question.
    allow_check = Rule(permission="bash", pattern=f"{CHECK} *", action=Action.ALLOW)
    rules = {**seed_agent.permission, "bash": [*seed_agent.permission["bash"], allow_check]}
    agent = seed_agent.model_copy(update={"permission": rules})
    workspace = make_workspace(tmp_path / "ws")
    approvals = ScriptedApprovals({"validation": ["stop"]})  # a failing check ends it
    with ScriptedServer(Model()) as server:
        session = Session.start(
            agent, workspace, "Fix add() in app.py", provider(server.base_url), approvals
        )
        state = asyncio.run(session.run())
    assert state.status is Status.COMPLETED, state.reason
    asked = {q.command: q.decision for q in approvals.asked if q.kind == "permission"}
    assert CHECK not in asked, asked
    # The model's command was asked, the reason first.
    decision = asked["echo fixed >> CHANGES.txt"]
    assert decision is not None
    assert decision.reason.startswith("no sandbox on this machine: bubblewrap (bwrap) is not")
    assert (workspace / "CHANGES.txt").read_text() == "fixed\n"
    passed = state.validations[1][-1][0]
    assert passed["passed"] and passed["check"]["command"] == CHECK
