"""What every agent file format shares while it is read: the known keys and tools, and the
`Builder` that collects diagnostics at the exact line and column of a key or value (unknown
keys, ignored sampling keys, models, tools, permission rules)."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from plangate.agents.frontmatter import Frontmatter, KeyPath
from plangate.diagnostics import Diagnostic, Severity
from plangate.model.catalog import model_table
from plangate.permissions.patterns import pattern_problem
from plangate.permissions.rules import PERMISSION_KINDS, Action, Rule

OPENCODE_KEYS = (
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
CLAUDE_KEYS = ("name", "description", "tools", "model", "color")
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
}
CLAUDE_MODEL_ALIASES = ("sonnet", "opus", "haiku", "inherit")


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
        for name in tools:
            if name in KNOWN_TOOLS or "*" in name:
                continue
            close = difflib.get_close_matches(name, KNOWN_TOOLS, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.report(
                ("tools", name),
                Severity.WARNING,
                "unknown-tool",
                f"unknown tool '{name}'{hint}",
                key=True,
            )

    def permissions(self, key: str, value: Any) -> dict[str, list[Rule]]:
        rules: dict[str, list[Rule]] = {}
        if isinstance(value, str):
            # `permission: ask` sets every kind at once.
            action = self.action((key,), value)
            if action is not None:
                for kind in PERMISSION_KINDS:
                    rules[kind] = [self.rule(kind, "*", action, (key,))]
            return rules
        if not isinstance(value, dict):
            self.report(
                (key,),
                Severity.ERROR,
                "invalid-value",
                f"'{key}' must map permission kinds ({', '.join(PERMISSION_KINDS)}) to rules",
            )
            return rules
        self.unknown_keys(value, PERMISSION_KINDS, (key,))
        for kind, spec in value.items():
            if kind not in PERMISSION_KINDS:
                continue
            path = (key, kind)
            if isinstance(spec, str):
                action = self.action(path, spec)
                if action is not None:
                    rules[kind] = [self.rule(kind, "*", action, path)]
            elif isinstance(spec, dict):
                kind_rules: list[Rule] = []
                for pattern, action_text in spec.items():
                    action = self.action((*path, pattern), action_text)
                    problem = pattern_problem(kind, pattern)
                    if problem:
                        self.report(
                            (*path, pattern), Severity.ERROR, "invalid-pattern", problem, key=True
                        )
                    elif action is not None:
                        kind_rules.append(self.rule(kind, pattern, action, (*path, pattern)))
                rules[kind] = kind_rules
            else:
                self.report(
                    path,
                    Severity.ERROR,
                    "invalid-value",
                    f"'{kind}' must be allow, ask, deny or a map of pattern: action",
                )
        return rules

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
