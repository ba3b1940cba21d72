"""Building a session: one launcher for every front door (the terminal, the demo, the server).

The agent's model is resolved through the catalogue, its provider built on the real API or,
with `base_url`, the scripted server (the same code path), and the session started for a task
or reopened from its event log.
"""

from __future__ import annotations

from pathlib import Path

from plangate.agents import Agent
from plangate.model.anthropic import RetryPolicy
from plangate.model.catalog import model_for
from plangate.model.factory import provider_for
from plangate.workflow.approvals import Approvals
from plangate.workflow.core import EventSink
from plangate.workflow.plan import Plan
from plangate.workflow.session import Session


def open_session(
    agent: Agent,
    workspace: Path,
    approvals: Approvals,
    *,
    task: str | None = None,
    session_id: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    on_event: EventSink | None = None,
    budget_usd: float | None = None,
    retry: RetryPolicy | None = None,
    plan: Plan | None = None,
) -> Session:
    """A new session for `task` (with `plan`: that plan, proposed at once), or session
    `session_id` reopened where it stopped.

    Raises ModelRequestError without an API key, FileNotFoundError for an unknown session."""
    provider = provider_for(
        agent.model_id, api_key=api_key, base_url=base_url, thinking=agent.thinking, retry=retry
    )
    model = model_for(agent.model_id)
    if session_id is not None:
        return Session.open(
            agent,
            workspace,
            session_id,
            provider,
            approvals,
            model=model,
            on_event=on_event,
            budget_usd=budget_usd,
        )
    if task is None:
        raise ValueError("a new session needs a task")
    return Session.start(
        agent,
        workspace,
        task,
        provider,
        approvals,
        plan=plan,
        model=model,
        on_event=on_event,
        budget_usd=budget_usd,
    )
