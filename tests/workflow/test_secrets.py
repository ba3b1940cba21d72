"""Secrets reach the model provider and nothing else: not the model, not `.plangate/` (event
logs, plans, results, outputs, the checkpoint store), not the logs or the console.

The API key is the one the SDK really sends (read from ANTHROPIC_API_KEY; the scripted server
answers 401 to any other), and the workspace's `.env` holds a second secret the model tries to
get at every way it can: reading the file, printing the environment, `cat`, a recursive grep.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from plangate.agents import Agent
from plangate.layout import Layout
from plangate.model.anthropic import RetryPolicy
from plangate.model.factory import provider_for
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import Answer, Question, ScriptedApprovals
from plangate.workflow.session import Session
from plangate.workflow.state import Status

from .scenario import Model, happy_path, make_workspace

# Commands the model runs while analysing, each of which could put a secret in its view.
PROBES = {
    "t-printenv": "printenv",
    "t-cat-env": "cat .env",
    "t-grep-env": "grep -rn DB_PASSWORD .",
}


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def _probing_model() -> Model:
    """The happy path, after reading `.env` and running every probe while analysing."""
    steps = happy_path()
    steps[1:1] = [
        ScriptedTurn(tool_calls=[ToolUse("read", {"file_path": ".env"}, id="t-read-env")]),
        *(
            ScriptedTurn(tool_calls=[ToolUse("bash", {"command": command}, id=call_id)])
            for call_id, command in PROBES.items()
        ),
    ]
    return Model(steps)


def _deny_secrets(q: Question) -> Answer | None:
    """The user says no to anything that would show the model `.env`; yes to the rest."""
    if q.kind == "permission" and ".env" in f"{q.command} {q.title}":
        return Answer(choice="deny")
    return None


def store_objects(store: Path) -> bytes:
    """Every object of the checkpoint store, decompressed (on disk they are zlib'd: a raw byte
    search would never find anything in them)."""
    done = subprocess.run(
        ["git", f"--git-dir={store}", "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def holding(secret: bytes, root: Path) -> list[Path]:
    """The files under `root` whose bytes hold `secret`."""
    return [p for p in sorted(root.rglob("*")) if p.is_file() and secret in p.read_bytes()]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record of every logger, at every level (the SDK's and httpx's included)."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def test_secrets_reach_the_provider_and_nowhere_else(
    seed_agent: Agent,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    key = f"sk-ant-api03-{secrets.token_hex(16)}"
    dotenv = f"db-{secrets.token_hex(16)}"
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    workspace = make_workspace(tmp_path / "ws")
    (workspace / ".env").write_text(f"ANTHROPIC_API_KEY={key}\nDB_PASSWORD={dotenv}\n")
    approvals = ScriptedApprovals(decide=_deny_secrets)
    with ScriptedServer(_probing_model(), api_key=key) as server:
        # No api_key here: the provider reads ANTHROPIC_API_KEY, as `plangate run` does.
        provider = provider_for(
            "claude-sonnet-4-6",
            base_url=server.base_url,
            retry=RetryPolicy(max_attempts=2, sleep=_no_wait),
        )
        session = Session.start(seed_agent, workspace, "Fix add() in app.py", provider, approvals)
        state = asyncio.run(session.run())
        requests = server.message_requests
        refused = list(server.violations)

    # The key reached the provider: the server answers 401 to any other (and records it).
    assert refused == []
    assert state.status is Status.COMPLETED, state.reason
    assert requests and all("<present>" in r.headers.values() for r in requests)
    # Every probe ran, and each was answered as expected.
    asked = [q.command for q in approvals.asked if q.kind == "permission"]
    assert any(c is not None and ".env" in c for c in asked), asked
    assert "not allowed" in state.results["t-read-env"]["text"], state.results["t-read-env"]
    assert state.results["t-read-env"]["is_error"]
    assert "PATH=" in state.results["t-printenv"]["text"]  # the environment was printed
    assert state.results["t-cat-env"]["is_error"], state.results["t-cat-env"]
    assert state.results["t-grep-env"]["is_error"], state.results["t-grep-env"]
    assert (workspace / "app.py").read_text().endswith("a + b\n")

    layout = Layout(workspace)
    store = layout.checkpoints
    objects = store_objects(store)
    assert b"return a + b" in objects or b"return a - b" in objects  # the scan sees content
    assert layout.events(state.id).is_file() and layout.plan(state.id, state.task).is_file()
    # The model was sent neither secret.
    sent = json.dumps([r.body for r in requests])
    out, err = capfd.readouterr()
    records = "\n".join(f"{r.getMessage()} {r.args!r}" for r in all_logs.records)
    for secret in (key, dotenv):
        assert secret not in sent
        assert holding(secret.encode(), layout.root) == []
        assert secret.encode() not in objects
        assert secret not in out and secret not in err
        assert secret not in records
    # Sanity: the searches do find a secret where there is one.
    assert holding(dotenv.encode(), workspace) == [workspace / ".env"]
