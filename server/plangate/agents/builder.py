"""What every agent file format shares while it is read: the known keys and tools, and the
`Builder` that collects diagnostics at the exact line and column of a key or value (unknown
keys, ignored sampling keys, models, tools, permission rules)."""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from plangate.agents.frontmatter import Frontmatter, KeyPath
from plangate.diagnostics import Diagnostic, Severity
from plangate.model.catalog import model_table
from plangate.permissions.patterns import pattern_problem
from plangate.permissions.rules import PERMISSION_KINDS, Action, Rule

OPENCODE_KEYS = (
    "name",
    "description",
    "mode",
    "model",
    "temperature",
    "top_p",
    "top_k",
    "thinking",
    "steps",
    "maxSteps",
    "tools",
    "permission",
    "permissions",
    "prompt",
    "disable",
    "hidden",
    "color",
    "network",
)
CLAUDE_KEYS = ("name", "description", "tools", "disallowedTools", "model", "maxTurns", "color")
# Claude Code subagent keys PlanGate reads but does not apply, and what it does instead.
CLAUDE_IGNORED_KEYS = {
    "permissionMode": "PlanGate's gates decide: the plan is approved first, edits are reviewed "
    "and commands checked against the rules, whatever the mode",
    "memory": "PlanGate keeps no agent memory between sessions",
    "skills": "PlanGate has no skills",
    "hooks": "PlanGate runs no hooks",
    "mcpServers": "PlanGate runs the servers of .mcp.json and opencode.json (docs/mcp.md), "
    "not an agent's own",
    "background": "PlanGate runs one agent at a time",
    "effort": "use 'thinking' in an opencode-format file to shape reasoning",
    "isolation": "PlanGate's commands run in its own copy-on-write sandbox",
    "initialPrompt": "the task typed by the user starts a PlanGate session",
}
# Sampling settings the Messages API (version 2026-10-21) no longer accepts: read, then ignored.
SAMPLING_KEYS = ("temperature", "top_p", "top_k")
KNOWN_TOOLS = (
    "read",
    "write",
    "edit",
    "patch",
    "multiedit",
    "bash",
    "grep",
    "glob",
    "list",
    "webfetch",
    "websearch",
    "todowrite",
    "todoread",
    "task",
)
# Claude Code's tool names -> ours.
CLAUDE_TOOLS = {
    "Read": "read",
    "Write": "write",
    "Edit": "edit",
    "MultiEdit": "edit",
    "NotebookEdit": "edit",
    "Bash": "bash",
    "Grep": "grep",
    "Glob": "glob",
    "LS": "list",
    "WebFetch": "webfetch",
    "WebSearch": "websearch",
    "TodoWrite": "todowrite",
    "Task": "task",
    "Agent": "task",  # the new name of Task
}
# Claude Code tools PlanGate has no equivalent of: named without a warning.
CLAUDE_OTHER_TOOLS = (
    "BashOutput",
    "KillBash",
    "KillShell",
    "PowerShell",
    "NotebookRead",
    "TodoRead",
    "Skill",
    "SlashCommand",
    "ExitPlanMode",
    "EnterPlanMode",
    "AskUserQuestion",
    "TaskCreate",
    "TaskGet",
    "TaskList",
    "TaskUpdate",
    "TaskOutput",
    "TaskStop",
    "SendMessage",
    "TeamCreate",
    "TeamDelete",
    "ToolSearch",
    "LSP",
    "ListMcpResourcesTool",
    "ReadMcpResourceTool",
    "Monitor",
)
CLAUDE_MODEL_ALIASES = ("sonnet", "opus", "haiku", "inherit")


# Shell operators: a pattern holding one joins two commands, and commands are matched one by one.
_JOINED = re.compile(r"&&|\|\||[;|&]")
# opencode's edit permission guards all of these tools.
EDIT_TOOLS = ("write", "edit", "patch", "multiedit")
# opencode's newer names for two permissions.
RENAMED_PERMISSIONS = {"shell": "bash", "subagent": "task"}
# Permissions opencode defines for tools PlanGate checks another way or does not have: read
# without a warning; a deny of everything turns the tool off (Builder.disabled_tools).
OPENCODE_PERMISSIONS = {
    "glob": "PlanGate's glob follows the 'read' rules; 'glob: deny' turns the tool off",
    "grep": "PlanGate's grep follows the 'read' rules; 'grep: deny' turns the tool off",
    "list": "PlanGate's list follows the 'read' rules; 'list: deny' turns the tool off",
    "task": "PlanGate has no subagent tool: nothing to enforce",
    "skill": "PlanGate has no skills: nothing to enforce",
    "lsp": "PlanGate has no LSP tool for the model: nothing to enforce",
    "question": "PlanGate asks the user through its own gates: nothing to enforce",
    "websearch": "PlanGate has no web search tool: nothing to enforce",
    "codesearch": "PlanGate has no code search service: nothing to enforce",
    "todowrite": "PlanGate has no todo tool: nothing to enforce",
    "todoread": "PlanGate has no todo tool: nothing to enforce",
    "doom_loop": "PlanGate always asks when the model repeats a call",
    "plan_enter": "PlanGate's plan gate is always on",
    "plan_exit": "PlanGate's plan gate is always on: the plan is left by the user's approval",
}


@dataclass(frozen=True)
class _Entry:
    """One rule of a permission block as written: a permission name (may be a wildcard), a
    pattern ("*" for a bare action), the action, where it is, and whether it was a bare
    action for the whole permission."""

    name: str
    pattern: str
    action: Action
    path: KeyPath
    whole: bool


class _Scalars(BaseModel):
    """Types of the plain opencode settings; pydantic errors are mapped back to positions."""

    description: str = ""
    mode: Literal["primary", "subagent", "all"] = "all"
    model: str | None = None
    steps: int | None = Field(None, ge=1)
    maxSteps: int | None = Field(None, ge=1)
    tools: dict[str, bool] = {}
    prompt: str | None = None
    disable: bool = False
    hidden: bool = False
    color: str | None = None
    network: bool = True  # PlanGate: network inside the bash sandbox


class Builder:
    """Collects diagnostics against one parsed frontmatter."""

    def __init__(self, fm: Frontmatter) -> None:
        self.fm = fm
        self.diagnostics: list[Diagnostic] = list(fm.diagnostics)
        # Every permission entry read, in order: which tools they turn off (disabled_tools).
        self._tool_rules: list[_Entry] = []

    def report(
        self, path: KeyPath, severity: Severity, code: str, message: str, *, key: bool = False
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                pos=self.fm.pos(path, key=key), severity=severity, code=code, message=message
            )
        )

    def in_order(self) -> list[Diagnostic]:
        """The diagnostics sorted by position, as editors and compilers list them."""
        return sorted(self.diagnostics, key=lambda d: (d.pos.line, d.pos.column))

    def unknown_keys(self, mapping: dict[str, Any], known: tuple[str, ...], where: KeyPath) -> None:
        for key in mapping:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
            scope = f" in '{'.'.join(where)}'" if where else ""
            self.report(
                (*where, key),
                Severity.WARNING,
                "unknown-key",
                f"unknown key '{key}'{scope} is ignored{hint}",
                key=True,
            )

    def scalars(self, data: dict[str, Any]) -> _Scalars:
        values = {k: v for k, v in data.items() if k in _Scalars.model_fields}
        try:
            return _Scalars.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(str(part) for part in error["loc"])
                self.report(loc, Severity.ERROR, "invalid-value", f"'{loc[0]}': {error['msg']}")
                values.pop(loc[0], None)
            return _Scalars.model_validate(values)

    def sampling(self, data: dict[str, Any]) -> None:
        """A warning on each sampling key: read, never sent, whatever its value."""
        for key in SAMPLING_KEYS:
            if key in data:
                self.report(
                    (key,),
                    Severity.WARNING,
                    "sampling-ignored",
                    f"ignored: the Messages API no longer accepts {key}",
                    key=True,
                )

    def model(self, reference: str | None, today: date | None) -> str | None:
        if reference is None:
            return None
        resolution = model_table().resolve(reference, today)
        for note in resolution.notes:
            self.report(("model",), note.severity, note.code, note.message)
        return resolution.model.id if resolution.model else None

    def tools(self, tools: dict[str, bool]) -> None:
        """A warning for a tool name that looks like a typo of one of PlanGate's; other names
        (opencode's MCP and plugin tools, `skill`) are noted: nothing to turn on or off."""
        for name in tools:
            if name in KNOWN_TOOLS or "*" in name:
                continue
            close = difflib.get_close_matches(name, KNOWN_TOOLS, n=1, cutoff=0.75)
            if close:
                message = f"unknown tool '{name}'; did you mean '{close[0]}'?"
                self.report(("tools", name), Severity.WARNING, "unknown-tool", message, key=True)
            else:
                message = f"'{name}' is not a PlanGate tool (an MCP or plugin tool?): not offered"
                self.report(("tools", name), Severity.INFO, "not-available", message, key=True)

    def permissions(self, key: str, value: Any) -> dict[str, list[Rule]]:
        """The rules of a `permission` block, in opencode's three spellings: one action for
        everything, a map of permission name -> action or {pattern: action}, or (its newer
        format) a list of {action, resource, effect}. Names are matched like opencode matches
        them (`"*"` is every kind); a bare action for a kind replaces the catch-alls written
        before it, since the later rule is the one opencode applies."""
        rules: dict[str, list[Rule]] = {}
        for entry in self._entries(key, value):
            self._tool_rules.append(entry)
            covers_kind = any(fnmatch.fnmatchcase(k, entry.name) for k in PERMISSION_KINDS)
            if entry.name not in (*PERMISSION_KINDS, *OPENCODE_PERMISSIONS) and (
                entry.pattern == "*" or not covers_kind
            ):
                # Any other name is a tool's: MCP tools answer to it (`git_*`, `mcp__git__*`,
                # `*`), a pattern under it to the call's arguments.
                rule = self.rule("mcp", entry.name, entry.action, entry.path)
                argued = rule.model_copy(update={"argument": entry.pattern})
                rules.setdefault("mcp", []).append(argued)
            for kind in PERMISSION_KINDS:
                if not fnmatch.fnmatchcase(kind, entry.name):
                    continue
                if entry.whole:
                    rules[kind] = [r for r in rules.get(kind, []) if r.pattern != "*"]
                rules.setdefault(kind, []).append(
                    self.rule(kind, entry.pattern, entry.action, entry.path)
                )
        return rules

    def disabled_tools(self) -> dict[str, bool]:
        """Tools the permission blocks turn off as opencode does: a tool whose last matching
        rule is a deny of everything (`"*": deny`, `grep: deny`) is not offered at all."""
        off: dict[str, bool] = {}
        for tool in KNOWN_TOOLS:
            name = "edit" if tool in EDIT_TOOLS else tool
            last = next(
                (e for e in reversed(self._tool_rules) if fnmatch.fnmatchcase(name, e.name)), None
            )
            if last is not None and last.pattern == "*" and last.action is Action.DENY:
                off[tool] = False
        return off

    def _entries(self, key: str, value: Any) -> list[_Entry]:
        """A permission block as ordered (name, pattern, action) entries, each with its place
        in the file; problems reported."""
        if isinstance(value, str):
            # `permission: ask` sets every kind at once.
            action = self.action((key,), value)
            return [_Entry("*", "*", action, (key,), True)] if action is not None else []
        if isinstance(value, list):
            return self._listed(key, value)
        if not isinstance(value, dict):
            self.report(
                (key,),
                Severity.ERROR,
                "invalid-value",
                f"'{key}' must map permission kinds ({', '.join(PERMISSION_KINDS)}) to rules",
            )
            return []
        entries: list[_Entry] = []
        for name, spec in value.items():
            path = (key, name)
            if not self._known_permission(key, name):
                continue
            if isinstance(spec, str):
                action = self.action(path, spec)
                if action is not None:
                    entries.append(_Entry(name, "*", action, path, True))
            elif isinstance(spec, dict):
                for pattern, action_text in spec.items():
                    action = self.action((*path, pattern), action_text)
                    problem = pattern_problem(name, str(pattern))
                    if problem:
                        self.report(
                            (*path, pattern), Severity.ERROR, "invalid-pattern", problem, key=True
                        )
                    elif action is not None:
                        self._never_matches(name, str(pattern), (*path, pattern))
                        entries.append(_Entry(name, str(pattern), action, (*path, pattern), False))
            else:
                self.report(
                    path,
                    Severity.ERROR,
                    "invalid-value",
                    f"'{name}' must be allow, ask, deny or a map of pattern: action",
                )
        return entries

    def _never_matches(self, name: str, pattern: str, path: KeyPath) -> None:
        """A warning for a command pattern no command can match: commands are matched one at
        a time (each part of `&&`, `|`, `;`), in opencode as here."""
        if name == "bash" and _JOINED.search(pattern):
            self.report(
                path,
                Severity.WARNING,
                "never-matches",
                f"'{pattern}' can never match: each command of a line is matched on its own "
                "(write one rule per command)",
                key=True,
            )

    def _listed(self, key: str, items: list[Any]) -> list[_Entry]:
        """opencode's newer format: `[{action: shell, resource: "rm *", effect: deny}, ...]`."""
        entries: list[_Entry] = []
        for index, item in enumerate(items):
            path = (key, str(index))
            if not isinstance(item, dict) or not {"action", "effect"} <= set(item):
                self.report(
                    path,
                    Severity.ERROR,
                    "invalid-value",
                    "a rule in a list is {action: <permission>, resource: <pattern>, "
                    "effect: allow | ask | deny}",
                )
                continue
            name = RENAMED_PERMISSIONS.get(str(item["action"]), str(item["action"]))
            pattern = str(item.get("resource", "*"))
            action = self.action((*path, "effect"), item["effect"])
            if action is None or not self._known_permission(key, name, (*path, "action")):
                continue
            problem = pattern_problem(name, pattern)
            if problem:
                self.report((*path, "resource"), Severity.ERROR, "invalid-pattern", problem)
                continue
            entries.append(_Entry(name, pattern, action, path, False))
        return entries

    def _known_permission(self, key: str, name: str, path: KeyPath | None = None) -> bool:
        """Whether `name` is a permission PlanGate reads (its own kinds, a wildcard, or one of
        opencode's tools, which only turn tools off); other names are reported."""
        where = path or (key, name)
        if name in PERMISSION_KINDS or "*" in name or "?" in name:
            return True
        if name in OPENCODE_PERMISSIONS:
            self.report(where, Severity.INFO, "not-enforced", OPENCODE_PERMISSIONS[name], key=True)
            return True
        if " " in name:
            message = (
                f"'{name}' looks like a command pattern: opencode matches this name against "
                f"tool names, so the rule applies to nothing; put it under 'bash:'"
            )
        elif name in EDIT_TOOLS:
            message = f"opencode checks '{name}' with the 'edit' permission: write 'edit' instead"
        else:
            close = difflib.get_close_matches(name, PERMISSION_KINDS, n=1, cutoff=0.75)
            if not close:
                message = (
                    f"'{name}' is no PlanGate tool: the rule applies to MCP tools of that name"
                )
                self.report(where, Severity.INFO, "mcp-rule", message, key=True)
                return True
            message = f"unknown permission '{name}' in '{key}'; did you mean '{close[0]}'?"
        self.report(where, Severity.WARNING, "unknown-key", message, key=True)
        return False

    def action(self, path: KeyPath, text: Any) -> Action | None:
        if isinstance(text, str) and text.strip().lower() in Action.__members__.values():
            return Action(text.strip().lower())
        choices = [a.value for a in Action]
        close = difflib.get_close_matches(str(text).lower(), choices, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        self.report(
            path,
            Severity.ERROR,
            "invalid-action",
            f"'{text}' is not an action (allow, ask or deny){hint}; this rule is ignored",
        )
        return None

    def rule(self, kind: str, pattern: str, action: Action, path: KeyPath) -> Rule:
        return Rule(
            permission=kind, pattern=str(pattern), action=action, pos=self.fm.pos(path, key=True)
        )
