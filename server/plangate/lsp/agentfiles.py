"""Agent files in the editor: diagnostics at the exact place, quick fixes for retired models, for
sampling keys the API no longer accepts and for the parser's own fixes (quoting a value with an
unquoted ': '), hover documentation on frontmatter keys, completion of tool names and actions."""

from __future__ import annotations

import re
from typing import Any

from lsprotocol import types
from pydantic import ValidationError

from plangate.agents.builder import CLAUDE_IGNORED_KEYS
from plangate.agents.discovery import config_problems
from plangate.agents.opencode_config import read_file
from plangate.agents.parse import KNOWN_TOOLS, parse_agent
from plangate.diagnostics import Diagnostic, Severity, TextFix
from plangate.lsp.params import uri_path
from plangate.lsp.positions import lsp_lines, utf16_units
from plangate.mcp.config import file_problems
from plangate.model.catalog import DEFAULT_MODEL, model_table

AGENT_FILE = re.compile(
    r"(^|/)((agents|\.opencode/agents?|\.claude/agents)/.+\.md|opencode\.jsonc?|\.mcp\.json)$"
)
KEY_DOCS = {
    "description": "What the agent is for; shown when picking an agent.",
    "mode": "`primary` (picked by the user), `subagent` (called by other agents) or `all`.",
    "model": "`anthropic/<model id>`; resolved through PlanGate's model table (retired models "
    "move to their successor with a warning).",
    "temperature": "**Ignored.** The Messages API (version 2026-10-21, what PlanGate speaks) "
    "no longer accepts `temperature`: any value, even the default, is a 400. PlanGate reads the "
    "key so opencode files load, warns, and never sends it. Use `thinking` to shape reasoning.",
    "top_p": "**Ignored.** The Messages API (version 2026-10-21) no longer accepts `top_p`; "
    "PlanGate warns and never sends it.",
    "top_k": "**Ignored.** The Messages API (version 2026-10-21) no longer accepts `top_k`; "
    "PlanGate warns and never sends it.",
    "thinking": "Extended thinking: `adaptive` (the model decides how much to think), "
    "`enabled` (manual, with `budget_tokens`: at least 1024 and below the model's output "
    "limit) or `disabled`; or a mapping `{type, budget_tokens, display}` where `display` is "
    "`summarized` or `omitted` (only the signature comes back). Omitted: the model's default.",
    "steps": "Most model turns in a session; past it PlanGate asks whether to continue.",
    "maxSteps": "Old name of `steps`.",
    "tools": "Tool name -> true/false. Tools not named are on: "
    + ", ".join(f"`{t}`" for t in KNOWN_TOOLS)
    + ".",
    "permission": "Rules per kind (`bash`, `edit`, `read`, `external_directory`, `webfetch`): "
    '`pattern: allow | ask | deny`; `"*"` is every kind; opencode\'s list form '
    "`[{action, resource, effect}]` works too. The project's opencode.json rules come first "
    "(`plangate agents --rules` shows where each came from). See docs/permissions.md.",
    "permissions": "Same as `permission` (the seed's spelling).",
    "prompt": "Text placed before the file's body in the system prompt.",
    "disable": "true hides the agent everywhere.",
    "hidden": "true keeps it out of pickers.",
    "color": "Colour for the agent in the editor.",
    "network": "PlanGate's own key: false cuts the network inside the bash sandbox.",
    "name": "The agent's name. opencode: replaces the file's name; Claude Code: the identity.",
    "maxTurns": "Claude Code: most model turns; PlanGate reads it as `steps`.",
    "disallowedTools": "Claude Code: tools taken away, whatever `tools` says; PlanGate too.",
    **{
        key: f"Claude Code's key, **not applied** by PlanGate: {why}."
        for key, why in CLAUDE_IGNORED_KEYS.items()
    },
}
# Top-level keys the API no longer accepts; the quick fix removes their lines.
SAMPLING_KEY = re.compile(r"""(\s*)(["']?)(temperature|top_p|top_k)\2\s*:(.*)$""")
SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def is_agent_file(uri: str) -> bool:
    """Is this document an agent file PlanGate reads?"""
    return uri.startswith("file://") and AGENT_FILE.search(uri) is not None


def problems(uri: str, text: str) -> list[Diagnostic]:
    """An agent file's problems (or an opencode.json's), as `plangate check` lists them."""
    path = uri_path(uri)
    if path.name == ".mcp.json":
        return file_problems(path, text)
    if path.name.startswith("opencode.json"):
        return config_problems(read_file(path, text)) + file_problems(path, text)
    return parse_agent(text, path).diagnostics


def diagnostics(uri: str, text: str) -> list[types.Diagnostic]:
    """The agent file's problems, each at its key or value."""
    lines = text.split("\n")
    out: list[types.Diagnostic] = []
    for problem in problems(uri, text):
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
                # Editors fade a key that does nothing.
                tags=[types.DiagnosticTag.Unnecessary]
                if problem.code == "sampling-ignored"
                else None,
                source="plangate",
                message=problem.message,
                data=_fix_data(problem.fix, text),
            )
        )
    return out


def _fix_data(fix: TextFix | None, text: str) -> dict[str, Any] | None:
    """The parser's fix, carried to the code action in the diagnostic's `data`, with the text
    it replaces: a fix whose text has changed since is not offered."""
    if fix is None:
        return None
    lines = text.splitlines()  # as the frontmatter parser counts them
    if fix.line > len(lines):
        return None
    return {
        "fix": fix.model_dump(),
        "old": lines[fix.line - 1][fix.column - 1 : fix.end_column - 1],
    }


def _text_fix(uri: str, text: str, diagnostic: types.Diagnostic) -> types.CodeAction | None:
    """The code action for a diagnostic whose `data` carries a fix, if it still applies."""
    data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
    try:
        fix, old = TextFix.model_validate(data.get("fix")), data.get("old")
    except ValidationError:
        return None
    rows = [row.rstrip("\r\n") for row in lsp_lines(text)]
    row = rows[fix.line - 1] if 0 < fix.line <= len(rows) else ""
    if not isinstance(old, str) or row[fix.column - 1 : fix.end_column - 1] != old:
        return None  # the text changed since the diagnostic was computed
    line = fix.line - 1
    edit = types.TextEdit(  # LSP counts UTF-16 code units
        range=types.Range(
            start=types.Position(line=line, character=utf16_units(row[: fix.column - 1])),
            end=types.Position(line=line, character=utf16_units(row[: fix.end_column - 1])),
        ),
        new_text=fix.new_text,
    )
    return types.CodeAction(
        title=fix.title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=True,
        edit=types.WorkspaceEdit(changes={uri: [edit]}),
    )


def quick_fixes(uri: str, text: str, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Rewrite a retired or unknown model line to a model PlanGate knows; remove a sampling key
    the API no longer accepts; apply a fix the parser found (quote a value)."""
    actions: list[types.CodeAction] = []
    lines = text.split("\n")
    for diagnostic in params.context.diagnostics:
        if isinstance(diagnostic.data, dict) and "fix" in diagnostic.data:
            action = _text_fix(uri, text, diagnostic)
            if action is not None:
                actions.append(action)
            continue
        if diagnostic.code == "sampling-ignored":
            action = _remove_sampling_key(uri, lines, diagnostic)
            if action is not None:
                actions.append(action)
            continue
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


def _remove_sampling_key(
    uri: str, lines: list[str], diagnostic: types.Diagnostic
) -> types.CodeAction | None:
    """Delete the key's line, and the lines of a value written as a block below it."""
    first = diagnostic.range.start.line
    match = SAMPLING_KEY.match(lines[first]) if first < len(lines) else None
    if match is None:
        return None  # the text changed since the diagnostic was computed
    indent, key, rest = len(match.group(1)), match.group(3), match.group(4).strip()
    empty_value = rest == "" or rest.startswith("#")
    last = first
    for number in range(first + 1, len(lines)):
        line = lines[number]
        if line.rstrip("\r") == "---":
            break
        if not line.strip():
            continue  # kept unless a continuation line follows
        depth = len(line) - len(line.lstrip())
        # A block sequence may sit at the key's own indentation (`top_k:` then `- 40`).
        in_value = depth > indent or (
            depth == indent and empty_value and re.match(r"-(\s|$)", line.lstrip()) is not None
        )
        if not in_value:
            break
        last = number
    if last + 1 < len(lines):
        start, end = (
            types.Position(line=first, character=0),
            types.Position(line=last + 1, character=0),
        )
    elif first > 0:
        start = types.Position(line=first - 1, character=len(lines[first - 1]))
        end = types.Position(line=last, character=len(lines[last]))
    else:
        start, end = (
            types.Position(line=0, character=0),
            types.Position(line=last, character=len(lines[last])),
        )
    edit = types.TextEdit(range=types.Range(start=start, end=end), new_text="")
    return types.CodeAction(
        title=f"Remove '{key}' (ignored: the API no longer accepts it)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=True,
        edit=types.WorkspaceEdit(changes={uri: [edit]}),
    )


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
