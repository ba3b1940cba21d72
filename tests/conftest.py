"""Shared fixtures: the repository root, the seed agent and a policy over a temp workspace."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from plangate.agents import Agent, load_agent
from plangate.permissions import Policy

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "agents" / "backend-developer.md"
# Servers the tests start write their log files here, not in the user's state folder.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="plangate-test-state-")


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
