"""Fixtures for the tools: a workspace with the seed agent's policy, and bubblewrap."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from plangate.agents import Agent
from plangate.permissions import Decision, Policy
from plangate.tools import ToolContext

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion (the tools are async)."""
    return asyncio.run(coro)


class Approver:
    """Answers 'ask' decisions from a fixed answer and records what was asked."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[tuple[str, Decision]] = []

    async def __call__(self, what: str, decision: Decision) -> bool:
        self.asked.append((what, decision))
        return self.answer


@pytest.fixture
def ctx(seed_agent: Agent, workspace: Path) -> ToolContext:
    """A tool context over an empty workspace that approves every 'ask'."""
    return ToolContext(
        workspace=workspace, policy=Policy(seed_agent.permission, workspace), confirm=Approver(True)
    )


@pytest.fixture(scope="session")
def bwrap() -> str:
    """bubblewrap, installed from Debian when missing; a visible skip when it cannot be."""
    found = shutil.which("bwrap")
    if found is None and shutil.which("apt-get"):
        for command in (
            ["apt-get", "install", "-y", "-q", "bubblewrap"],
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "bubblewrap"],
        ):
            try:
                subprocess.run(command, capture_output=True, timeout=300, check=False)
            except (OSError, subprocess.TimeoutExpired):
                break
            found = shutil.which("bwrap")
            if found:
                break
    if found is None:
        pytest.skip("bubblewrap (bwrap) is not installed and apt-get could not install it")
    probe = subprocess.run(
        [found, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"],
        capture_output=True,
        timeout=30,
    )
    if probe.returncode != 0:
        pytest.skip(f"bwrap cannot create a sandbox here: {probe.stderr.decode()[:200]}")
    return found
