"""Agent files (opencode's and Claude Code's markdown formats) -> validated `Agent` models.

Every problem is a diagnostic at the line and column of the offending key or value. Unknown
keys are warnings naming the closest known key: opencode forwards a misspelled key to the
provider without a word, so a permission typo silently grants or denies nothing.

`temperature`, `top_p` and `top_k` are known but ignored, with a warning: the Messages API
version PlanGate speaks (2026-10-21) rejects any of them with a 400, whatever the value.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path
from typing import Any

from plangate.agents.builder import (
    CLAUDE_IGNORED_KEYS,
    CLAUDE_KEYS,
    CLAUDE_OTHER_TOOLS,
    CLAUDE_TOOLS,
    KNOWN_TOOLS,
    OPENCODE_KEYS,
    SAMPLING_KEYS,
    Builder,
)
from plangate.agents.definition import Agent, AgentFormat, AgentSource, Origin
from plangate.agents.frontmatter import Frontmatter, parse_frontmatter
from plangate.agents.thinking import parse_thinking
from plangate.diagnostics import Severity
from plangate.permissions.rules import Rule


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
        builder = Builder(fm)
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
    builder = Builder(fm)
    if fmt is AgentFormat.CLAUDE:
        return _claude_agent(builder, source, default_name, today)
    return opencode_agent(builder, source, default_name, today)


def opencode_agent(
    builder: Builder,
    source: AgentSource,
    name: str,
    today: date | None,
    *,
    base: Path | None = None,
) -> Agent:
    """An opencode agent from its settings (a file's frontmatter, or an opencode.json `agent`
    entry whose `{file:...}` prompt is read relative to `base`)."""
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
    # A deny of everything for a tool turns it off, over the `tools` map (opencode reads that
    # map as rules placed before the permission blocks).
    tools = {**scalars.tools, **builder.disabled_tools()}
    prompt = builder.fm.body.strip()
    if scalars.prompt:
        prompt = f"{_file_reference(builder, scalars.prompt, base).strip()}\n\n{prompt}".strip()
    model_id = builder.model(scalars.model, today)
    # opencode: a frontmatter `name` names the agent instead of its file.
    named = data.get("name")
    return Agent(
        name=named.strip() if isinstance(named, str) and named.strip() else name,
        description=scalars.description,
        mode=scalars.mode,
        model=scalars.model,
        model_id=model_id,
        thinking=parse_thinking(builder, data.get("thinking"), model_id),
        steps=scalars.steps if scalars.steps is not None else scalars.maxSteps,
        tools=tools,
        permission=permission,
        prompt=prompt,
        disable=scalars.disable,
        hidden=scalars.hidden,
        color=scalars.color,
        network=scalars.network,
        source=source,
        diagnostics=builder.in_order(),
    )


def _file_reference(builder: Builder, text: str, base: Path | None) -> str:
    """opencode.json's `{file:./prompts/review.md}`: the file's text (relative to the config)."""
    match = re.fullmatch(r"\s*\{file:([^}]+)\}\s*", text)
    if match is None or base is None:
        return text
    reference = match.group(1).strip()
    path = Path(reference).expanduser() if reference.startswith("~") else base / reference
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        builder.report(
            ("prompt",), Severity.ERROR, "invalid-value", f"cannot read {reference}: {exc}"
        )
        return ""


def _claude_agent(builder: Builder, source: AgentSource, name: str, today: date | None) -> Agent:
    data = builder.fm.data
    known = (*CLAUDE_KEYS, *CLAUDE_IGNORED_KEYS)
    # Claude Code has no sampling keys either; they get the same warning as in opencode files.
    builder.unknown_keys({k: v for k, v in data.items() if k not in SAMPLING_KEYS}, known, ())
    builder.sampling(data)
    for key, instead in CLAUDE_IGNORED_KEYS.items():
        if key in data:
            builder.report(
                (key,), Severity.INFO, "not-applied", f"'{key}' is not applied: {instead}"
            )
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
    tools = _claude_tools(builder, "tools", data.get("tools"))
    if data.get("tools") is not None:
        tools = {"*": False, **tools}  # `tools:` lists the only tools the agent gets
    # disallowedTools: taken away, whatever `tools` says (as in Claude Code).
    tools |= {
        tool: False
        for tool in _claude_tools(builder, "disallowedTools", data.get("disallowedTools"))
    }
    model_ref = data.get("model")
    model: str | None = None
    model_id: str | None = None
    if model_ref is not None and str(model_ref) not in ("inherit", "default"):
        model = str(model_ref)
        model_id = builder.model(model, today)
    turns = data.get("maxTurns")
    if turns is not None and (not isinstance(turns, int) or isinstance(turns, bool) or turns < 1):
        builder.report(
            ("maxTurns",),
            Severity.ERROR,
            "invalid-value",
            "'maxTurns' must be a whole number of at least 1",
        )
        turns = None
    color = data.get("color")
    return Agent(
        name=agent_name.strip(),
        description=description,
        mode="subagent",
        model=model,
        model_id=model_id,
        steps=turns,
        tools=tools,
        prompt=builder.fm.body.strip(),
        color=str(color) if color is not None else None,
        source=source,
        diagnostics=builder.in_order(),
    )


def _claude_tools(builder: Builder, key: str, value: Any) -> dict[str, bool]:
    """The PlanGate tools a Claude Code tool list names (`Read, Grep` or a YAML list), each
    True; names of MCP tools and of Claude Code tools PlanGate lacks are noted, not warned."""
    if value is None:
        return {}
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        names = [str(part).strip() for part in value]
    else:
        builder.report(
            (key,), Severity.ERROR, "invalid-value", f"'{key}' must be a comma-separated list"
        )
        return {}
    tools: dict[str, bool] = {}
    absent: list[str] = []
    for tool in names:
        base = tool.split("(", 1)[0].strip()  # `Agent(worker)`, `Bash(git *)`
        mapped = CLAUDE_TOOLS.get(base)
        if mapped is not None:
            tools[mapped] = True
            if "(" in tool and base != "Agent":
                builder.report(
                    (key,),
                    Severity.WARNING,
                    "tool-pattern",
                    f"'{tool}': the pattern is not applied here, the agent gets all of "
                    f"{base}; write it as a rule under 'permission:' in an opencode-format file",
                )
        elif base.startswith("mcp__"):
            tools[base] = True  # an MCP tool (or `mcp__server__*`): offered when configured
        elif base in CLAUDE_OTHER_TOOLS or base == "*":
            absent.append(base)
        else:
            close = difflib.get_close_matches(base, list(CLAUDE_TOOLS), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            builder.report((key,), Severity.WARNING, "unknown-tool", f"unknown tool '{tool}'{hint}")
    if absent:
        builder.report(
            (key,),
            Severity.INFO,
            "not-available",
            f"PlanGate has no {', '.join(absent)}: not offered to the model",
        )
    return tools


__all__ = ["KNOWN_TOOLS", "detect_format", "load_agent", "parse_agent"]
