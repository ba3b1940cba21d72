"""Shared fixtures: the repository root, the seed agent, a policy over a temp workspace, and
the conformance check: no test may send the Messages API a request the real API rejects."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from plangate.agents import Agent, load_agent
from plangate.permissions import Policy

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "agents" / "backend-developer.md"
# Servers the tests start write their log files here, not in the user's state folder.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="plangate-test-state-")
# Every scripted Messages API server, in this process or in a server or editor it starts,
# appends the requests the real API would reject here (plangate.model.scripted).
VIOLATIONS = Path(tempfile.mkdtemp(prefix="plangate-test-api-")) / "violations.jsonl"
VIOLATIONS.touch()
os.environ["PLANGATE_SCRIPTED_VIOLATIONS"] = str(VIOLATIONS)


@pytest.fixture(autouse=True)
def requests_conform_to_the_api() -> Iterator[None]:
    """Fail the test if any request it caused would have been a 4xx from the real API."""
    before = VIOLATIONS.stat().st_size
    yield
    with VIOLATIONS.open("rb") as handle:
        handle.seek(before)
        new = [json.loads(line) for line in handle.read().splitlines() if line.strip()]
    assert not new, "requests the real Messages API rejects:\n" + "\n".join(
        f"{v['path']}: {v['status']} {v['message']}" for v in new
    )


@pytest.fixture(scope="session")
def seed_agent() -> Agent:
    """The bundled backend-developer agent."""
    return load_agent(SEED)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder."""
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def policy(seed_agent: Agent, workspace: Path) -> Policy:
    """The seed agent's policy over an empty workspace."""
    return Policy(seed_agent.permission, workspace)
