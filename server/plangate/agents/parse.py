"""Agent files (opencode's and Claude Code's markdown formats) -> validated `Agent` models.

Every problem is a diagnostic at the line and column of the offending key or value. Unknown
keys are warnings naming the closest known key: opencode forwards a misspelled key to the
provider without a word, so a permission typo silently grants or denies nothing.

`temperature`, `top_p` and `top_k` are known but ignored, with a warning: the Messages API
version PlanGate speaks (2026-10-21) rejects any of them with a 400, whatever the value.
"""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from plangate.agents.definition import Agent, AgentFormat, AgentSource, Origin
from plangate.agents.frontmatter import Frontmatter, KeyPath, parse_frontmatter
from plangate.diagnostics import Diagnostic, Severity
from plangate.model.catalog import model_table
from plangate.model.types import Thinking
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
ThinkingType = Literal["adaptive", "enabled", "disabled"]
THINKING_TYPES: tuple[ThinkingType, ...] = ("adaptive", "enabled", "disabled")
THINKING_DISPLAYS = ("summarized", "omitted")
THINKING_KEYS = ("type", "budget_tokens", "budgetTokens", "display")
MIN_THINKING_BUDGET = 1024
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


class _Builder:
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

    def thinking(self, value: Any, model_id: str | None) -> Thinking | None:
        """`thinking: adaptive | enabled | disabled`, or a mapping with `type`,
        `budget_tokens` (`budgetTokens`) and `display`. None when absent or wrong."""
        if value is None:
            return None
        if isinstance(value, str):
            kind = self.thinking_type(("thinking",), value)
            return Thinking(type=kind) if kind else None
        if not isinstance(value, dict):
            hint = ""
            if isinstance(value, bool):
                hint = "; write 'disabled'" if not value else "; write 'adaptive' or 'enabled'"
            self.report(
                ("thinking",),
                Severity.ERROR,
                "invalid-value",
                "'thinking' must be adaptive, enabled, disabled or a mapping "
                f"{{type, budget_tokens, display}}{hint}",
            )
            return None
        self.unknown_keys(value, THINKING_KEYS, ("thinking",))
        ok = True
        budget_key = "budget_tokens" if "budget_tokens" in value else "budgetTokens"
        if "budget_tokens" in value and "budgetTokens" in value:
            self.report(
                ("thinking", "budgetTokens"),
                Severity.WARNING,
                "duplicate-key",
                "both 'budget_tokens' and 'budgetTokens' are given: 'budget_tokens' is used",
                key=True,
            )
        budget = value.get(budget_key)
        if "type" in value:
            kind = self.thinking_type(("thinking", "type"), value["type"])
            ok = kind is not None
        else:
            # `{budget_tokens: 8000}` can only mean manual extended thinking.
            kind = "enabled" if budget is not None else "adaptive"
        if budget is not None:
            path = ("thinking", budget_key)
            if isinstance(budget, bool) or not isinstance(budget, int):
                self.report(
                    path,
                    Severity.ERROR,
                    "invalid-value",
                    f"'{budget_key}' must be a whole number of tokens, at least "
                    f"{MIN_THINKING_BUDGET:,}",
                )
                ok = False
            elif budget < MIN_THINKING_BUDGET:
                self.report(
                    path,
                    Severity.ERROR,
                    "invalid-value",
                    f"'{budget_key}' must be at least {MIN_THINKING_BUDGET:,} (the API's "
                    f"minimum), not {budget:,}",
                )
                ok = False
            elif kind is not None and kind != "enabled":
                self.report(
                    path,
                    Severity.ERROR,
                    "invalid-value",
                    f"'{budget_key}' only goes with type 'enabled'; '{kind}' thinking has no "
                    "budget (remove it, or use type: enabled)",
                    key=True,
                )
                ok = False
            elif (info := model_table().get(model_id or "")) and budget >= info.max_output:
                self.report(
                    path,
                    Severity.ERROR,
                    "invalid-value",
                    f"'{budget_key}' must be below {info.id}'s output limit "
                    f"({info.max_output:,} tokens), not {budget:,}",
                )
                ok = False
        display = value.get("display")
        if display is not None and display not in THINKING_DISPLAYS:
            close = difflib.get_close_matches(str(display), THINKING_DISPLAYS, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.report(
                ("thinking", "display"),
                Severity.ERROR,
                "invalid-value",
                f"'display' must be summarized or omitted, not '{display}'{hint}",
            )
            ok = False
        elif display is not None and kind == "disabled":
            self.report(
                ("thinking", "display"),
                Severity.ERROR,
                "invalid-value",
                "'display' only goes with type 'adaptive' or 'enabled': disabled thinking "
                "returns nothing to display",
                key=True,
            )
            ok = False
        if not ok or kind is None:
            return None
        return Thinking.model_validate({"type": kind, "budget_tokens": budget, "display": display})

    def thinking_type(self, path: KeyPath, text: Any) -> ThinkingType | None:
        for kind in THINKING_TYPES:
            if isinstance(text, str) and text.strip().lower() == kind:
                return kind
        close = difflib.get_close_matches(str(text), THINKING_TYPES, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        self.report(
            path,
            Severity.ERROR,
            "invalid-value",
            f"'{text}' is not a thinking type (adaptive, enabled or disabled){hint}",
        )
        return None

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


def detect_format(path: Path) -> AgentFormat:
    """Claude Code's format for files under a `.claude` folder, opencode's otherwise."""
    return AgentFormat.CLAUDE if ".claude" in path.parts else AgentFormat.OPENCODE


def load_agent(
    path: Path,
    origin: Origin = Origin.EXPLICIT,
    *,
    fmt: AgentFormat | None = None,
    name: str | None = None,
    today: date | None = None,
) -> Agent:
    """Read and validate one agent file; problems are in the returned agent's diagnostics."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fmt = fmt or detect_format(path)
        source = AgentSource(path=path, origin=origin, format=fmt)
        fm = Frontmatter(file=path, data={}, body="")
        builder = _Builder(fm)
        builder.report((), Severity.ERROR, "unreadable", f"cannot read agent file: {exc}")
        return Agent(name=name or path.stem, source=source, diagnostics=builder.diagnostics)
    return parse_agent(text, path, origin, fmt=fmt, name=name, today=today)


def parse_agent(
    text: str,
    path: Path,
    origin: Origin = Origin.EXPLICIT,
    *,
    fmt: AgentFormat | None = None,
    name: str | None = None,
    today: date | None = None,
) -> Agent:
    """Validate an agent file's text (an editor's unsaved buffer, say)."""
    fmt = fmt or detect_format(path)
    source = AgentSource(path=path, origin=origin, format=fmt)
    default_name = name or path.stem
    fm = parse_frontmatter(text, path)
    builder = _Builder(fm)
    if fmt is AgentFormat.CLAUDE:
        return _claude_agent(builder, source, default_name, today)
    return _opencode_agent(builder, source, default_name, today)


def _opencode_agent(builder: _Builder, source: AgentSource, name: str, today: date | None) -> Agent:
    data = builder.fm.data
    builder.unknown_keys(data, OPENCODE_KEYS, ())
    builder.sampling(data)
    scalars = builder.scalars(data)
    builder.tools(scalars.tools)
    permission: dict[str, list[Rule]] = {}
    if "permission" in data and "permissions" in data:
        builder.report(
            ("permissions",),
            Severity.WARNING,
            "duplicate-key",
            "both 'permission' and 'permissions' are given: their rules are merged",
            key=True,
        )
    for key in ("permission", "permissions"):
        if key in data:
            for kind, rules in builder.permissions(key, data[key]).items():
                permission.setdefault(kind, []).extend(rules)
    if scalars.steps is not None and scalars.maxSteps is not None:
        builder.report(
            ("maxSteps",),
            Severity.WARNING,
            "duplicate-key",
            "'maxSteps' is the old name of 'steps'; 'steps' is used",
            key=True,
        )
    prompt = builder.fm.body.strip()
    if scalars.prompt:
        prompt = f"{scalars.prompt.strip()}\n\n{prompt}".strip()
    model_id = builder.model(scalars.model, today)
    return Agent(
        name=name,
        description=scalars.description,
        mode=scalars.mode,
        model=scalars.model,
        model_id=model_id,
        thinking=builder.thinking(data.get("thinking"), model_id),
        steps=scalars.steps if scalars.steps is not None else scalars.maxSteps,
        tools=scalars.tools,
        permission=permission,
        prompt=prompt,
        disable=scalars.disable,
        hidden=scalars.hidden,
        color=scalars.color,
        network=scalars.network,
        source=source,
        diagnostics=builder.in_order(),
    )


def _claude_agent(builder: _Builder, source: AgentSource, name: str, today: date | None) -> Agent:
    data = builder.fm.data
    # Claude Code has no sampling keys either; they get the same warning as in opencode files.
    builder.unknown_keys({k: v for k, v in data.items() if k not in SAMPLING_KEYS}, CLAUDE_KEYS, ())
    builder.sampling(data)
    agent_name = data.get("name")
    if not isinstance(agent_name, str) or not agent_name.strip():
        builder.report(
            ("name",), Severity.WARNING, "missing-name", f"no 'name': using the file name '{name}'"
        )
        agent_name = name
    description = data.get("description")
    if not isinstance(description, str):
        builder.report(
            ("description",), Severity.WARNING, "missing-description", "'description' is missing"
        )
        description = ""
    tools = _claude_tools(builder, data.get("tools"))
    model_ref = data.get("model")
    model: str | None = None
    model_id: str | None = None
    if model_ref is not None and str(model_ref) != "inherit":
        model = str(model_ref)
        model_id = builder.model(model, today)
    color = data.get("color")
    return Agent(
        name=agent_name.strip(),
        description=description,
        mode="subagent",
        model=model,
        model_id=model_id,
        tools=tools,
        prompt=builder.fm.body.strip(),
        color=str(color) if color is not None else None,
        source=source,
        diagnostics=builder.in_order(),
    )


def _claude_tools(builder: _Builder, value: Any) -> dict[str, bool]:
    """`tools: Read, Grep` lists the only tools the agent gets; omitted means all of them."""
    if value is None:
        return {}
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        names = [str(part).strip() for part in value]
    else:
        builder.report(
            ("tools",), Severity.ERROR, "invalid-value", "'tools' must be a comma-separated list"
        )
        return {}
    tools = {"*": False}
    for tool in names:
        mapped = CLAUDE_TOOLS.get(tool)
        if mapped is None:
            close = difflib.get_close_matches(tool, list(CLAUDE_TOOLS), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            builder.report(
                ("tools",), Severity.WARNING, "unknown-tool", f"unknown tool '{tool}'{hint}"
            )
            continue
        tools[mapped] = True
    return tools
