"""Agent files in the editor: diagnostics at the exact place, a quick fix for retired models,
hover documentation on frontmatter keys, completion of tool names and actions."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types

from plangate.agents.modeltable import DEFAULT_MODEL, model_table
from plangate.agents.parse import KNOWN_TOOLS, parse_agent
from plangate.diagnostics import Severity

AGENT_FILE = re.compile(r"(^|/)(agents|\.opencode/agents?|\.claude/agents)/.+\.md$")
KEY_DOCS = {
    "description": "What the agent is for; shown when picking an agent.",
    "mode": "`primary` (picked by the user), `subagent` (called by other agents) or `all`.",
    "model": "`anthropic/<model id>`; resolved through PlanGate's model table (retired models "
    "move to their successor with a warning).",
    "temperature": "Sampling temperature, 0 to 1.",
    "top_p": "Nucleus sampling, 0 to 1.",
    "steps": "Most model turns in a session; past it PlanGate asks whether to continue.",
    "maxSteps": "Old name of `steps`.",
    "tools": "Tool name -> true/false. Tools not named are on: "
    + ", ".join(f"`{t}`" for t in KNOWN_TOOLS)
    + ".",
    "permission": "Rules per kind (`bash`, `edit`, `read`, `external_directory`, `webfetch`): "
    "`pattern: allow | ask | deny`. See docs/permissions.md.",
    "permissions": "Same as `permission` (the seed's spelling).",
    "prompt": "Text placed before the file's body in the system prompt.",
    "disable": "true hides the agent everywhere.",
    "hidden": "true keeps it out of pickers.",
    "color": "Colour for the agent in the editor.",
    "network": "PlanGate's own key: false cuts the network inside the bash sandbox.",
}
SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
}


def is_agent_file(uri: str) -> bool:
    """Is this document an agent file PlanGate reads?"""
    return uri.startswith("file://") and AGENT_FILE.search(uri) is not None


def diagnostics(uri: str, text: str) -> list[types.Diagnostic]:
    """The agent file's problems, each at its key or value."""
    path = Path(uri.removeprefix("file://"))
    agent = parse_agent(text, path)
    lines = text.split("\n")
    out: list[types.Diagnostic] = []
    for problem in agent.diagnostics:
        line = max(0, problem.pos.line - 1)
        start = max(0, problem.pos.column - 1)
        end = len(lines[line]) if line < len(lines) else start
        out.append(
            types.Diagnostic(
                range=types.Range(
                    start=types.Position(line=line, character=start),
                    end=types.Position(line=line, character=max(end, start)),
                ),
                severity=SEVERITY[problem.severity],
                code=problem.code,
                source="plangate",
                message=problem.message,
            )
        )
    return out


def quick_fixes(uri: str, text: str, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Rewrite a retired or unknown model line to a model PlanGate knows."""
    actions: list[types.CodeAction] = []
    lines = text.split("\n")
    for diagnostic in params.context.diagnostics:
        if diagnostic.code not in ("model-retired", "model-unknown", "model-deprecated"):
            continue
        line = diagnostic.range.start.line
        if line >= len(lines) or not lines[line].lstrip().startswith("model:"):
            continue
        current = lines[line].split(":", 1)[1].strip().strip("\"'")
        resolved = model_table().resolve(current)
        target = (
            resolved.model.id
            if resolved.model and diagnostic.code != "model-unknown"
            else DEFAULT_MODEL
        )
        if diagnostic.code == "model-deprecated" and resolved.model and resolved.model.successor:
            target = resolved.model.successor
        indent = lines[line][: len(lines[line]) - len(lines[line].lstrip())]
        edit = types.TextEdit(
            range=types.Range(
                start=types.Position(line=line, character=0),
                end=types.Position(line=line, character=len(lines[line])),
            ),
            new_text=f"{indent}model: anthropic/{target}",
        )
        actions.append(
            types.CodeAction(
                title=f"Use anthropic/{target}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                is_preferred=True,
                edit=types.WorkspaceEdit(changes={uri: [edit]}),
            )
        )
    return actions


def hover(text: str, position: types.Position) -> types.Hover | None:
    """Documentation of the frontmatter key under the cursor."""
    lines = text.split("\n")
    if position.line >= len(lines):
        return None
    match = re.match(r"\s*([A-Za-z_]+)\s*:", lines[position.line])
    if match is None or match.group(1) not in KEY_DOCS:
        return None
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown,
            value=f"**{match.group(1)}**: {KEY_DOCS[match.group(1)]}",
        )
    )


def completions(text: str, position: types.Position) -> list[types.CompletionItem]:
    """allow / ask / deny after a rule's colon; tool names inside `tools:`."""
    lines = text.split("\n")
    if position.line >= len(lines):
        return []
    line = lines[position.line][: position.character]
    if re.match(r"\s+[^:]+:\s*\S*$", line) and _section(lines, position.line) in (
        "permission",
        "permissions",
    ):
        return [
            types.CompletionItem(label=a, kind=types.CompletionItemKind.EnumMember)
            for a in ("allow", "ask", "deny")
        ]
    if _section(lines, position.line) == "tools" and ":" not in line:
        return [
            types.CompletionItem(
                label=t, kind=types.CompletionItemKind.Property, insert_text=f"{t}: true"
            )
            for t in KNOWN_TOOLS
        ]
    return []


def _section(lines: list[str], line: int) -> str | None:
    """The top-level frontmatter key a line belongs to."""
    for number in range(line, -1, -1):
        found = re.match(r"([A-Za-z_]+)\s*:", lines[number])
        if found:
            return found.group(1)
    return None
