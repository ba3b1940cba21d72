"""The plan gate is one decision, whoever asks: the model's calls and the editor's executeTool."""

from __future__ import annotations

from pathlib import Path

import pytest

from plangate.agents import Agent
from plangate.permissions import Policy
from plangate.tools import tools_for
from plangate.workflow.gate import refusal
from plangate.workflow.state import Status


@pytest.mark.parametrize(
    ("status", "tool", "raw", "expected"),
    [
        (Status.ANALYSING, "write", {"file_path": "a.py"}, "before the user approves the plan"),
        (Status.AWAITING_PHASE, "edit", {"file_path": "a.py"}, "only in a phase the user approved"),
        (None, "write", {"file_path": "a.py"}, "only in a phase the user approved"),
        (Status.ANALYSING, "bash", {"command": "npm install"}, "before the plan is approved"),
        (None, "bash", {"command": "rm -r src"}, "outside an approved phase"),
        (Status.ANALYSING, "bash", {"command": "ls"}, None),
        (Status.RUNNING, "write", {"file_path": "a.py"}, None),
        (Status.DOCUMENTING, "bash", {"command": "npm install"}, None),
        (Status.ANALYSING, "read", {"file_path": "a.py"}, None),
    ],
)
def test_one_gate_for_every_state(
    seed_agent: Agent,
    workspace: Path,
    status: Status | None,
    tool: str,
    raw: dict[str, str],
    expected: str | None,
) -> None:
    tools = {t.name: t for t in tools_for(seed_agent)}
    why = refusal(status, tools[tool], raw, Policy(seed_agent.permission, workspace))
    if expected is None:
        assert why is None
    else:
        assert why is not None and why.startswith("Refused:") and expected in why
