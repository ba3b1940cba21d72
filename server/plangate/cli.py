"""The `plangate` command line: check agent files, ask the permission engine, list agents,
say what protection the machine gives."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from plangate.layout import DEFAULT_AGENT
from plangate.terminal.commands import add_session_commands, agent_of

# Each command imports what it needs: `plangate serve` must start fast, and the engine is big.
if TYPE_CHECKING:
    from plangate.agents import Agent
    from plangate.diagnostics import Diagnostic
    from plangate.permissions import Decision, Policy


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `plangate` script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(_glue_values(list(sys.argv[1:] if argv is None else argv)))
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        status: int = args.run(args)
    except BrokenPipeError:
        return 1
    return status


def _glue_values(argv: list[str]) -> list[str]:
    """`--bash '-x'` would read as an option to argparse: glue such values (`--bash=-x`)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--bash", "--edit", "--read") and i + 1 < len(argv):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plangate", description=__doc__)
    commands = parser.add_subparsers(title="commands")

    check = commands.add_parser("check", help="validate agent files (file:line:col messages)")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders; default: all agents")
    check.add_argument("--workspace", type=Path, default=Path.cwd())
    check.set_defaults(run=_check)

    agents = commands.add_parser("agents", help="list the agents found, and where they came from")
    agents.add_argument("--workspace", type=Path, default=Path.cwd())
    agents.add_argument(
        "--rules", action="store_true", help="also each agent's rules, with the file:line of each"
    )
    agents.set_defaults(run=_agents)

    mcp = commands.add_parser(
        "mcp", help="the MCP servers configured here, their tools, and what the rules say of each"
    )
    mcp.add_argument("--workspace", type=Path, default=Path.cwd())
    mcp.add_argument("--agent", default=DEFAULT_AGENT, help="whose rules (default: %(default)s)")
    mcp.add_argument(
        "--project-servers",
        action="store_true",
        help="also start the servers the project configures (they run with your rights)",
    )
    mcp.add_argument(
        "--sign-out", metavar="NAME", help="forget the sign-in (tokens) kept for a remote server"
    )
    mcp.set_defaults(run=_mcp)

    permissions = commands.add_parser("permissions", help="ask the permission engine")
    permission_commands = permissions.add_subparsers(title="commands", required=True)
    decide = permission_commands.add_parser(
        "check", help="print the decision for a command or path as JSON"
    )
    decide.add_argument("--agent", required=True, help="agent name or path of an agent file")
    decide.add_argument("--workspace", type=Path, default=Path.cwd())
    what = decide.add_mutually_exclusive_group(required=True)
    what.add_argument("--bash", metavar="CMD")
    what.add_argument("--edit", metavar="PATH")
    what.add_argument("--read", metavar="PATH")
    what.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"bash": ...} / {"edit": ...} / {"read": ...} lines from stdin',
    )
    decide.set_defaults(run=_permissions_check)

    add_session_commands(commands)

    timeline = commands.add_parser(
        "timeline", help="what a session did, in words: calls, checks, denials, answers"
    )
    timeline.add_argument("session", help="the session id")
    timeline.add_argument("--workspace", type=Path, default=Path.cwd())
    timeline.set_defaults(run=_timeline)

    record = commands.add_parser(
        "record",
        help="a session's approval record in Markdown: plan, amendments, diffs, checks, cost",
    )
    record.add_argument("session", help="the session id")
    record.add_argument("--workspace", type=Path, default=Path.cwd())
    record.add_argument("-o", "--output", type=Path, help="write it to this file (else: stdout)")
    record.set_defaults(run=_record)

    serve = commands.add_parser("serve", help="the language server (stdio, or --tcp HOST:PORT)")
    serve.add_argument("--tcp", metavar="HOST:PORT", default=None)
    serve.add_argument("--stdio", action="store_true", help="the default")
    serve.set_defaults(run=_serve)

    doctor = commands.add_parser(
        "doctor", help="what protection this machine gives commands (sandbox, namespaces, tools)"
    )
    doctor.add_argument("--workspace", type=Path, default=Path.cwd())
    doctor.set_defaults(run=_doctor)

    demo = commands.add_parser("demo", help="a whole session, offline, on a sample backend")
    demo.add_argument(
        "--prepare",
        type=Path,
        metavar="DIR",
        help="only write the sample backend to DIR (with its .env and checks), to open in an "
        "editor against the scripted model",
    )
    demo.set_defaults(run=_demo)
    return parser


def _check(args: argparse.Namespace) -> int:
    from plangate.agents import discover, load_agent

    workspace: Path = args.workspace
    if args.paths:
        files: list[Path] = []
        for path in args.paths:
            if path.is_dir():
                files += sorted(path.rglob("*.md"))
            elif path.exists():
                files.append(path)
            else:
                print(f"{path}: error: no such file or folder", file=sys.stderr)
                return 1
        agents = [load_agent(file) for file in files]
        extra: list[Diagnostic] = []
    else:
        from plangate.mcp.config import load_servers

        listing = discover(workspace)
        # Every file is checked, those overridden by a later agent of the same name too.
        agents = [*listing.overridden, *listing.agents.values()]
        extra = [*listing.config_diagnostics, *load_servers(workspace).diagnostics]
    return _report(agents, sys.stdout, extra)


def _report(agents: list[Agent], out: TextIO, extra: list[Diagnostic] | None = None) -> int:
    from plangate.diagnostics import Severity

    counts = dict.fromkeys(Severity, 0)
    shown: set[str] = set()
    # opencode.json's rules apply to every agent: their notes are shown once.
    for diagnostic in [*(extra or []), *(d for agent in agents for d in agent.diagnostics)]:
        line = diagnostic.display()
        if line in shown:
            continue
        shown.add(line)
        print(line, file=out)
        counts[diagnostic.severity] += 1
    print(
        f"{len(agents)} agent(s) checked: {counts[Severity.ERROR]} error(s), "
        f"{counts[Severity.WARNING]} warning(s), {counts[Severity.INFO]} note(s)",
        file=out,
    )
    return 1 if counts[Severity.ERROR] else 0


def _agents(args: argparse.Namespace) -> int:
    _print_table(args.workspace, sys.stdout, rules=args.rules)
    return 0


def _print_table(workspace: Path, out: TextIO, *, rules: bool = False) -> None:
    from plangate.agents import discover
    from plangate.diagnostics import display_path

    listing = discover(workspace)
    rows = [("NAME", "MODE", "MODEL", "FROM", "FILE")]
    for agent in listing.agents.values():
        model = agent.model_id or agent.model or "(default)"
        if agent.model and agent.model_id and agent.model_id not in agent.model:
            model = f"{agent.model_id} (file: {agent.model})"
        rows.append(
            (
                agent.name,
                agent.mode,
                model,
                agent.source.origin.value,
                display_path(agent.source.path, workspace),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)), file=out
        )
    for agent in listing.overridden:
        print(
            f"note: {display_path(agent.source.path, workspace)} ({agent.source.origin.value}) "
            f"is overridden by a later agent named '{agent.name}'",
            file=out,
        )
    for agent in listing.agents.values() if rules else []:
        # In the order they are weighed: the project's opencode.json first, the agent's own after.
        print(f"\n{agent.name}:", file=out)
        for kind, found in agent.permission.items():
            for rule in found:
                where = rule.describe(workspace).removeprefix(f"`{rule.pattern}` ")
                print(f"  {kind:<18} {rule.pattern!r:<32} {rule.action.value:<5} {where}", file=out)
        off = sorted(tool for tool, on in agent.tools.items() if not on and tool != "*")
        if off:
            print(f"  tools turned off: {', '.join(off)}", file=out)


def _mcp(args: argparse.Namespace) -> int:
    from plangate.mcp.listing import print_servers, sign_out, terminal_sign_in

    if args.sign_out:
        return sign_out(args.workspace.resolve(), args.sign_out, sys.stdout)
    agent = agent_of(args)
    if agent is None:
        return 2
    return print_servers(
        args.workspace.resolve(),
        agent,
        sys.stdout,
        project_servers=args.project_servers,
        sign_in=terminal_sign_in(sys.stdout) if sys.stdin.isatty() else None,
    )


def _permissions_check(args: argparse.Namespace) -> int:
    from plangate.permissions import Policy

    workspace: Path = args.workspace.resolve()
    agent = agent_of(args)
    if agent is None:
        return 2
    if agent.errors:
        for diagnostic in agent.errors:
            print(diagnostic.display(), file=sys.stderr)
        print(f"plangate: agent '{agent.name}' has errors; fix them first", file=sys.stderr)
        return 1
    policy = Policy(agent.permission, workspace)
    if not args.jsonl:
        request = {"bash": args.bash, "edit": args.edit, "read": args.read}
        print(json.dumps(_decide(policy, request)))
        return 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as exc:
            print(json.dumps({"error": f"invalid JSON: {exc}"}), flush=True)
            continue
        try:
            answer = _decide(policy, request)
        except Exception as exc:  # one bad request must not cost the answers after it
            answer = {"error": f"internal error: {type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    return 0


def _decide(policy: Policy, request: Any) -> dict[str, Any]:
    """One decision as JSON, or `{"error": ...}` naming what was wrong with the request."""
    if not isinstance(request, dict):
        return {"error": 'expected an object like {"bash": "..."} or {"edit": "..."}'}
    given = {k: v for k, v in request.items() if k in ("bash", "edit", "read") and v is not None}
    if len(given) != 1:
        return {"error": 'expected exactly one of "bash", "edit" or "read"'}
    kind, value = next(iter(given.items()))
    if not isinstance(value, str):
        return {"error": f'"{kind}" must be a string'}
    decision: Decision
    if kind == "bash":
        decision = policy.check_bash(value)
    elif kind == "edit":
        decision = policy.check_edit(value)
    else:
        decision = policy.check_read(value)
    return decision.to_json()


def _serve(args: argparse.Namespace) -> int:
    from plangate.lsp.app import serve

    serve(args.tcp)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from plangate.doctor import report

    return report(args.workspace.resolve(), sys.stdout)


def _events_of(args: argparse.Namespace) -> Path | None:
    """The event log of `args.session` in `args.workspace`; None (said) when there is none."""
    from plangate.layout import Layout

    path = Layout(args.workspace.resolve()).events(args.session)
    if "/" in args.session or not path.is_file():
        print(f"plangate: no session {args.session!r} in {args.workspace}", file=sys.stderr)
        return None
    return path


def _record(args: argparse.Namespace) -> int:
    from plangate.workflow.log import EventLog
    from plangate.workflow.record import record

    path = _events_of(args)
    if path is None:
        return 1
    text = record(EventLog(path).read())
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _timeline(args: argparse.Namespace) -> int:
    import time

    from plangate.workflow.log import EventLog
    from plangate.workflow.timeline import timeline

    path = _events_of(args)
    if path is None:
        return 1
    for entry in timeline(EventLog(path).read()):
        clock = time.strftime("%H:%M:%S", time.localtime(entry.at))
        mark = " " if entry.ok else "!"
        print(f"{clock} {mark} phase {entry.phase}  {entry.kind:<10} {entry.text}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from plangate.demo.run import prepare, run_demo
    from plangate.demo.script import TASK

    if args.prepare is not None:
        if args.prepare.exists():
            print(f"plangate: {args.prepare} exists; give a new folder", file=sys.stderr)
            return 1
        prepare(args.prepare)
        print(f"The sample backend is in {args.prepare}. The demo's task:\n\n{TASK}")
        return 0
    status, _, _ = run_demo(sys.stdout)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
