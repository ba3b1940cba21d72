"""`plangate run` and `plangate resume`: a session at the terminal, new (for a task, or for a
plan document, perhaps one approved in review) or continued where it stopped."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plangate.layout import DEFAULT_AGENT

# The engine loads when a session starts: `plangate serve` and `plangate check` stay quick.
if TYPE_CHECKING:
    from plangate.agents import Agent
    from plangate.workflow.plan import Plan


def add_session_commands(commands: Any) -> None:
    """The `run` and `resume` subcommands, on the command line's subparsers."""
    run = commands.add_parser("run", help="work on a task with an agent, at the terminal")
    run.add_argument("task", nargs="?", help="what to do, in plain words (with --plan: optional)")
    run.add_argument(
        "--plan", type=Path, help="a plan document to work (as PlanGate writes them) instead of one"
    )
    run.add_argument(
        "--approved",
        action="store_true",
        help="the --plan document was approved in review: run its phases unattended (every "
        "rule still holds; an amendment stops the run)",
    )
    _session_options(run)
    run.set_defaults(run=_run)

    resume = commands.add_parser("resume", help="continue a paused or interrupted session")
    resume.add_argument("session", help="the session id printed when it paused")
    _session_options(resume)
    resume.set_defaults(run=lambda args: _session(args, session_id=args.session))


def agent_of(args: argparse.Namespace) -> Agent | None:
    """The agent `--agent` names, in `--workspace`; None (said on stderr) when there is none."""
    from plangate.agents import find_agent

    try:
        return find_agent(args.agent, args.workspace.resolve())
    except LookupError as exc:
        print(f"plangate: {exc}", file=sys.stderr)
        return None


def _session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent", default=DEFAULT_AGENT, help="agent name or file")
    parser.add_argument("--workspace", type=Path, default=Path.cwd())
    parser.add_argument(
        "--approve",
        default="",
        help="answer these unattended: plan,phases,amendments,edits,commands (never a deny)",
    )
    parser.add_argument("--budget", type=float, default=None, help="pause past this many USD")
    # The scripted Messages API server (tests, demos); the real API when absent.
    parser.add_argument("--base-url", default=None, help=argparse.SUPPRESS)


def _run(args: argparse.Namespace) -> int:
    """A new session: for the task, or for the `--plan` document (its title the task)."""
    if args.approved and args.plan is None:
        print("plangate: --approved needs --plan FILE", file=sys.stderr)
        return 2
    plan = None if args.plan is None else _plan_of(args.plan)
    if args.plan is not None and plan is None:
        return 2  # said
    task = args.task or (plan.title if plan else None)
    if not task:
        print("plangate: run needs a task (or a --plan)", file=sys.stderr)
        return 2
    reviewed = str(args.plan) if args.approved else None
    return _session(args, task=task, plan=plan, reviewed=reviewed)


def _plan_of(path: Path) -> Plan | None:
    """The plan a plan document holds; None (said on stderr, with its line) when it holds none."""
    from plangate.workflow.plan_document import PlanDocumentError, parse_plan

    try:
        return parse_plan(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"plangate: cannot read {path}: {exc}", file=sys.stderr)
    except PlanDocumentError as exc:
        print(f"{path}:{exc.line}: {exc.message}", file=sys.stderr)
    return None


def _session(
    args: argparse.Namespace,
    *,
    task: str | None = None,
    plan: Plan | None = None,
    reviewed: str | None = None,
    session_id: str | None = None,
) -> int:
    """Run a session at the terminal (new for `task`, or `session_id` resumed) to its end or
    a pause; its exit status (a run of a plan approved in review passes only completed)."""
    from plangate.model.types import ModelRequestError
    from plangate.terminal.runner import drive, terminal_session
    from plangate.workflow.launch import open_session

    agent = agent_of(args)
    if agent is None:
        return 2
    # Errors stop the session; warnings (a retired model's successor, ignored sampling keys)
    # are shown once, where `plangate check` would show them.
    for diagnostic in agent.diagnostics:
        print(diagnostic.display(), file=sys.stderr)
    if agent.errors:
        return 2
    workspace = args.workspace.resolve()
    printer, approvals = terminal_session(sys.stdout, _approve_set(args.approve), reviewed=reviewed)
    try:
        session = open_session(
            agent,
            workspace,
            approvals,
            task=task,
            plan=plan,
            session_id=session_id,
            base_url=args.base_url,
            on_event=printer,
            budget_usd=args.budget,
        )
    except ModelRequestError as exc:
        print(f"plangate: {exc}. To see PlanGate work offline, run: plangate demo", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"plangate: {exc}", file=sys.stderr)
        return 2
    if session_id is None:
        print(f"Session {session.state.id} in {workspace}", flush=True)
    state = drive(session, printer, sys.stdout, resume=session_id is not None)
    finished = ("completed",) if reviewed is not None else ("completed", "paused")
    return 0 if state.status.value in finished else 1


def _approve_set(text: str) -> frozenset[str]:
    from plangate.terminal.approvals import AUTO

    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    unknown = kinds - set(AUTO)
    if unknown:
        raise SystemExit(
            f"plangate: --approve takes {','.join(AUTO)}, not {', '.join(sorted(unknown))}"
        )
    return kinds
