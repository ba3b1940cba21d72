"""How an MCP tool call is decided: the agent's rules on tool names (opencode's `server_tool`
and Claude Code's `mcp__server__tool`, wildcards allowed), the bash rules of the command the
tool is known to amount to (`git_commit` is `git commit`), the edit rules for workspace paths in
its arguments, and the tool's own hints. The strictest answer wins; deny is final.

Without a rule: a tool that declares `readOnlyHint` is allowed (before the plan is approved it
is the only kind that may run at all: workflow/gate.py); any other is asked; a tool that
declares `destructiveHint` is asked even when a rule allows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from plangate.mcp.connection import McpTool
from plangate.permissions import Action, Decision, Policy
from plangate.permissions.decisions import as_strict_as_opencode, builtin, pick
from plangate.permissions.patterns import compile_bash
from plangate.permissions.rules import Rule, strictest

# MCP tools known to do what a command does: they answer to that command's rules. The
# reference git server's tools, by name (whatever the server is called).
EQUIVALENT_COMMANDS = {
    "git_commit": "git commit",
    "git_add": "git add",
    "git_reset": "git reset",
    "git_checkout": "git checkout BRANCH",
    "git_create_branch": "git branch BRANCH",
    "git_push": "git push",
    "git_pull": "git pull",
    "git_merge": "git merge",
    "git_rebase": "git rebase",
    "git_status": "git status",
    "git_diff": "git diff",
    "git_diff_staged": "git diff --staged",
    "git_diff_unstaged": "git diff",
    "git_log": "git log",
    "git_show": "git show",
    "git_branch": "git branch --list",
}
_PATH_KEY = re.compile(
    r"(^|_)(path|paths|file|files|filename|target_file|destination|dest|source|src|dir"
    r"|directory|uri|root|cwd)$",
    re.I,
)

_READ_ONLY = builtin("mcp", "*", Action.ALLOW, "the tool declares it only reads")
_DESTRUCTIVE = builtin("mcp", "*", Action.ASK, "the tool declares it is destructive")
_UNLISTED = builtin("mcp", "*", Action.ASK, "an MCP tool no rule allows")


def names(tool: McpTool) -> tuple[str, str]:
    """The two spellings rules use: opencode's `server_tool`, Claude Code's `mcp__server__tool`."""
    # opencode replaces what is not a letter, digit, `_` or `-` in both parts with `_`.
    opencode = re.sub(r"[^A-Za-z0-9_-]", "_", f"{tool.server}_{tool.name}")
    return opencode, tool.qualified


def decide(
    policy: Policy, rules: list[Rule], tool: McpTool, arguments: Mapping[str, Any]
) -> Decision:
    """The decision on one call of `tool` with `arguments`."""
    spelled = names(tool)
    for_tool = [
        r for r in rules if any(compile_bash(r.pattern).written.fullmatch(n) for n in spelled)
    ]
    # opencode asks about an MCP call with the pattern `*`: its choice is the last rule for
    # every call. Rules for some arguments are held against the call below, like its paths.
    every_call = [r for r in for_tool if r.argument == "*"]
    rule = as_strict_as_opencode(pick(every_call), every_call[-1] if every_call else None)
    shown = f"`{tool.qualified}`"
    if rule is not None:
        decision = Decision(
            action=rule.action,
            rule=rule,
            reason=f"{shown} matches {rule.describe()}: {rule.action.value}",
            # A rule's allow keeps what the tool says of itself (it may still run before
            # the plan when it only reads).
            read_only=tool.read_only,
        )
    elif tool.read_only:
        decision = Decision(
            action=Action.ALLOW,
            rule=_READ_ONLY,
            reason=f"{shown} only reads (readOnlyHint)",
            read_only=True,
        )
    else:
        decision = Decision(
            action=Action.ASK,
            rule=_UNLISTED,
            reason=f"{shown} is an MCP tool no rule allows: ask first",
        )
    found = [decision]
    # A rule for some arguments only ever makes a call stricter (the strictest one wins).
    values = _strings(arguments)
    for argued in (r for r in for_tool if r.argument != "*"):
        if any(compile_bash(argued.argument).written.fullmatch(v) for v in values):
            found.append(
                Decision(
                    action=argued.action,
                    rule=argued,
                    reason=f"{shown} matches {argued.describe()}: {argued.action.value}",
                )
            )
    command = EQUIVALENT_COMMANDS.get(tool.name)
    if command is not None:
        as_command = policy.check_bash(command)
        if as_command.action is not Action.ALLOW:
            found.append(
                Decision(
                    action=as_command.action,
                    rule=as_command.rule,
                    reason=f"{shown} does what `{command}` does: {as_command.reason}",
                )
            )
    # Paths in its arguments: the read rules for a tool that only reads (`.env` stays asked
    # or denied), the edit rules for any other.
    check = policy.check_read if tool.read_only else policy.check_edit
    for path in _paths(arguments):
        named = check(path)
        if named.action is not Action.ALLOW:
            found.append(
                Decision(
                    action=named.action, rule=named.rule, reason=f"{shown} names {named.reason}"
                )
            )
    if tool.destructive and decision.action is Action.ALLOW:
        found.append(
            Decision(
                action=Action.ASK,
                rule=_DESTRUCTIVE,
                reason=f"{shown} declares it is destructive: ask first",
            )
        )
    chosen = strictest(found) or decision
    return chosen if chosen.action is not Action.ALLOW else decision


def _strings(arguments: Any) -> list[str]:
    """Every string value in the arguments, however deep (what argument patterns match); keys
    too, since a server may read them."""
    found: list[str] = []
    pending = [arguments]
    while pending:  # a stack, not recursion: any nesting the model sends is walked
        value = pending.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, Mapping):
            pending += [*map(str, value.keys()), *value.values()]
        elif isinstance(value, list):
            pending += value
    return found


def _paths(arguments: Any, depth: int = 0, listed: bool = False) -> list[str]:
    """Argument values under path-like keys (`path`, `file_path`, `files`, `source`...), at
    any depth of nested objects and lists (`edits: [{path: ...}]`); `file://` URIs too.
    `listed`: the items of a list under such a key."""
    found: list[str] = []
    if depth > 8:
        return found
    items = arguments.items() if isinstance(arguments, Mapping) else enumerate(arguments)
    for key, value in items:
        pathy = listed or bool(_PATH_KEY.search(str(key)))
        if isinstance(value, str):
            if pathy and value.strip():
                found.append(value.removeprefix("file://"))
        elif isinstance(value, Mapping):
            found += _paths(value, depth + 1)
        elif isinstance(value, list):
            found += _paths(value, depth + 1, listed=pathy and not isinstance(key, int))
    return found
