"""How an MCP call is decided, on tools as servers describe them (no server needed)."""

from __future__ import annotations

from pathlib import Path

from plangate.agents import Agent
from plangate.mcp.connection import McpTool
from plangate.mcp.rules import decide
from plangate.permissions import Action, Policy
from plangate.permissions.rules import Rule


def _tool(name: str, *, read_only: bool = False, destructive: bool = False) -> McpTool:
    return McpTool("fs", name, "", {"type": "object"}, read_only, destructive)


def test_paths_in_arguments_answer_to_the_read_and_edit_rules(
    seed_agent: Agent, tmp_path: Path
) -> None:
    policy = Policy(seed_agent.permission, tmp_path)
    reader = _tool("read_text_file", read_only=True)
    assert decide(policy, [], reader, {"path": "src/app.py"}).action is Action.ALLOW
    # A tool that only reads still may not read a secret unasked.
    assert decide(policy, [], reader, {"path": ".env"}).action is Action.ASK
    mover = _tool("move_file")
    # The seed denies edits of **/*.env*: whichever argument names the file.
    assert decide(policy, [], mover, {"source": ".env", "destination": "x"}).action is Action.DENY
    nested = {"edits": [{"path": "config/.env.local", "text": "x"}]}
    assert decide(policy, [], _tool("edit_file"), nested).action is Action.DENY


def test_rules_hints_and_read_only(seed_agent: Agent, tmp_path: Path) -> None:
    policy = Policy(seed_agent.permission, tmp_path)
    allow = [Rule(permission="mcp", pattern="fs_list_*", action=Action.ALLOW)]
    listed = decide(policy, allow, _tool("list_directory", read_only=True), {})
    # Allowed by a rule, it still only reads: it may run before the plan.
    assert listed.action is Action.ALLOW and listed.read_only
    assert decide(policy, [], _tool("write_file"), {}).action is Action.ASK
    destructive = _tool("delete_all", destructive=True)
    everything = [Rule(permission="mcp", pattern="*", action=Action.ALLOW)]
    assert decide(policy, everything, destructive, {}).action is Action.ASK
    denied = [Rule(permission="mcp", pattern="mcp__fs__*", action=Action.DENY)]
    assert decide(policy, denied, _tool("read_text_file", read_only=True), {}).action is Action.DENY


def test_names_as_the_api_and_opencode_spell_them(seed_agent: Agent, tmp_path: Path) -> None:
    dotted = _tool("create.issue")
    assert dotted.qualified == "mcp__fs__create_issue"  # the API takes no dots
    deny = [Rule(permission="mcp", pattern="fs_create_issue", action=Action.DENY)]
    policy = Policy(seed_agent.permission, tmp_path)
    assert decide(policy, deny, dotted, {}).action is Action.DENY  # opencode's spelling


def test_claude_code_names_a_whole_server(tmp_path: Path) -> None:
    from plangate.agents.parse import parse_agent
    from plangate.workflow.servers import offered

    def agent(lines: str) -> Agent:
        text = f"---\nname: a\ndescription: b\n{lines}\n---\nx\n"
        return parse_agent(text, tmp_path / ".claude" / "agents" / "a.md")

    only_fs = agent("tools: Read, mcp__fs")
    assert offered(only_fs, _tool("read_text_file"))
    assert not offered(only_fs, McpTool("git", "git_log", "", {}, True))
    no_fs = agent("disallowedTools: mcp__fs")
    assert not offered(no_fs, _tool("read_text_file"))
    assert offered(no_fs, McpTool("git", "git_log", "", {}, True))


def test_a_rule_for_some_arguments_narrows_the_tools_rule(tmp_path: Path) -> None:
    """`"github_*": {"*": allow, "*secret*": deny}`: calls whose arguments match are denied;
    an argument pattern never loosens a rule for every call."""
    from plangate.agents.parse import load_agent

    path = tmp_path / "a.md"
    path.write_text(
        "---\ndescription: t\npermission:\n  fs_*:\n    '*': allow\n    '*secret*': deny\n"
        "  fs_write_*:\n    '*': deny\n    'notes/*': allow\n---\nBody\n"
    )
    agent = load_agent(path)
    policy = Policy(agent.permission, tmp_path)
    rules = agent.permission["mcp"]
    reader = _tool("read_text_file")
    assert decide(policy, rules, reader, {"path": "notes/a.md"}).action is Action.ALLOW
    denied = decide(policy, rules, reader, {"query": {"text": "the secret plan"}})
    assert denied.action is Action.DENY and "*secret*" in denied.reason, denied.reason
    # The rule for every call of fs_write_* is a deny: an allow for some arguments is not.
    assert decide(policy, rules, _tool("write_file"), {"path": "notes/x"}).action is Action.DENY


def test_an_argument_rule_never_loosens_the_default(tmp_path: Path) -> None:
    """No rule for every call of the tool: it is asked (it does not only read); an argument
    `allow` leaves it asked, and an argument `deny` holds at any depth."""
    from plangate.agents.parse import load_agent

    path = tmp_path / "a.md"
    path.write_text(
        "---\ndescription: t\npermission:\n  fs_create_*:\n    '*public*': allow\n"
        "    '*secret*': deny\n---\nBody\n"
    )
    agent = load_agent(path)
    policy = Policy(agent.permission, tmp_path)
    rules = agent.permission["mcp"]
    creator = _tool("create_issue")
    assert decide(policy, rules, creator, {"repo": "a public repo"}).action is Action.ASK
    deep: object = "my secret"
    for _ in range(50):
        deep = [deep]
    assert decide(policy, rules, creator, {"a": deep}).action is Action.DENY
    assert decide(policy, rules, creator, {"the secret key": 1}).action is Action.DENY
