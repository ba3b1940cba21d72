"""An unquoted ': ' inside a one-line value (`description: Use this agent when: ...`) is invalid
YAML that Claude Code and opencode accept: PlanGate reads it as opencode's fallback does, warns
at the original position, and offers to quote the value (issue 18, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from plangate.agents.frontmatter import Frontmatter, parse_frontmatter
from plangate.cli import main
from plangate.diagnostics import Severity
from plangate.lsp import agentfiles

FILE = Path("agents/helper.md")
DESCRIPTION = "Use this agent when: the user asks for X. Examples: <example>hi</example>"
TEXT = f"""---
name: helper
description: {DESCRIPTION}
model: openrouter/some-model:free
# a comment: kept
tools:
  bash: false
mode: subagent
summary: one: two
color: blue
---
Be helpful.
"""


def parse(text: str) -> Frontmatter:
    return parse_frontmatter(text, FILE)


def apply_fix(text: str, fm: Frontmatter, key: str) -> str:
    """The text with the warning's fix applied (columns are characters, 1-based)."""
    [fix] = [d.fix for d in fm.diagnostics if d.fix and f"'{key}'" in d.fix.title]
    lines = text.split("\n")
    row = lines[fix.line - 1]
    lines[fix.line - 1] = row[: fix.column - 1] + fix.new_text + row[fix.end_column - 1 :]
    return "\n".join(lines)


def test_the_fallback_reads_the_value_as_text_with_a_warning_and_a_fix() -> None:
    fm = parse(TEXT)
    assert fm.data == {
        "name": "helper",
        "description": DESCRIPTION,
        "model": "openrouter/some-model:free",
        "tools": {"bash": False},
        "mode": "subagent",
        "summary": "one: two",
        "color": "blue",
    }
    assert fm.body == "Be helpful.\n"
    # `model` was rewritten too, but plain YAML reads it the same: no warning for it.
    warnings = [(d.pos.line, d.pos.column, d.code, d.severity) for d in fm.diagnostics]
    assert warnings == [
        (3, 14, "unquoted-colon", Severity.WARNING),
        (9, 10, "unquoted-colon", Severity.WARNING),
    ]
    first = fm.diagnostics[0]
    assert first.message == (
        "the value of 'description' contains ': ', which YAML reads as a new key; read as "
        "text, as opencode and Claude Code do. Quote it"
    )
    assert first.fix is not None and first.fix.title == "Quote the value of 'description'"
    assert (first.fix.line, first.fix.column) == (3, 14)
    assert first.fix.end_column == 14 + len(DESCRIPTION)
    assert first.fix.new_text == f'"{DESCRIPTION}"'


def test_positions_are_those_of_the_original_lines() -> None:
    fm = parse(TEXT)
    keys = {path: (pos.line, pos.column) for path, pos in fm.key_pos.items()}
    values = {path: (pos.line, pos.column) for path, pos in fm.value_pos.items()}
    assert keys == {
        ("name",): (2, 1),
        ("description",): (3, 1),
        ("model",): (4, 1),
        ("tools",): (6, 1),
        ("tools", "bash"): (7, 3),
        ("mode",): (8, 1),
        ("summary",): (9, 1),
        ("color",): (10, 1),
    }
    assert values[("description",)] == (3, 14)
    assert values[("model",)] == (4, 8)
    assert values[("tools", "bash")] == (7, 9)
    assert values[("summary",)] == (9, 10)
    assert values[("color",)] == (10, 8)


def test_later_diagnostics_are_at_original_lines() -> None:
    text = "---\ndescription: a: b\ndescription: c: d\ntools:\n  bash: false\n  bash: true\n---\n"
    fm = parse(text)
    duplicates = [(d.pos.line, d.pos.column) for d in fm.diagnostics if d.code == "duplicate-key"]
    assert duplicates == [(3, 1), (6, 3)]
    assert fm.data["description"] == "c: d"


def test_a_file_invalid_even_after_the_fallback_keeps_the_first_error() -> None:
    fm = parse("---\ndescription: a: b\ntools: [oops\nmode: all\n---\n")
    [error] = fm.diagnostics
    assert (error.code, error.severity) == ("yaml", Severity.ERROR)
    assert (error.pos.line, error.pos.column) == (2, 15)
    assert error.message.startswith("invalid YAML: mapping values are not allowed")
    assert fm.data == {}


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_value_starting_with_a_quote_is_not_rewritten(quote: str) -> None:
    fm = parse(f"---\ndescription: {quote}Use: this{quote}: more\n---\n")
    assert [d.code for d in fm.diagnostics] == ["yaml"]
    # Quoted values are left as they are, while another line is rewritten.
    fm = parse(f"---\ndescription: {quote}Use: this{quote}\nsummary: a: b\n---\n")
    assert fm.data == {"description": "Use: this", "summary": "a: b"}
    assert [(d.pos.line, d.code) for d in fm.diagnostics] == [(3, "unquoted-colon")]


def test_a_file_that_parses_gets_no_warning() -> None:
    fm = parse('---\ndescription: "Use: quoted"\nmodel: x:free\nurl: https://example.com\n---\n')
    assert fm.diagnostics == []
    assert fm.data["description"] == "Use: quoted"


def test_the_fix_makes_the_file_parse_with_the_same_data() -> None:
    value = 'Say "hi": a \\ backslash, an emoji 🙂, a\ttab: done'
    text = f"---\ndescription: {value}   \nmode: all\n---\nbody\n"
    fm = parse(text)
    assert fm.data["description"] == value
    fixed = parse(apply_fix(text, fm, "description"))
    assert fixed.diagnostics == [] and fixed.data == fm.data


def test_no_fix_when_indented_lines_joined_the_value() -> None:
    fm = parse("---\ndescription: Use: this\n  and more\n---\n")
    assert fm.data == {"description": "Use: this\nand more"}
    [warning] = fm.diagnostics
    assert warning.code == "unquoted-colon" and warning.fix is None


def test_no_fix_for_a_flow_collection_read_as_text() -> None:
    fm = parse("---\ndescription: Use: this\ntools: {bash: false}\n---\n")
    assert fm.data["tools"] == "{bash: false}"
    tools = next(d for d in fm.diagnostics if "'tools'" in d.message)
    assert tools.fix is None and "not as a list or mapping" in tools.message


def test_check_prints_the_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "agents" / "helper.md"
    path.parent.mkdir()
    path.write_text(f"---\ndescription: {DESCRIPTION}\n---\nBe helpful.\n")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "helper.md:2:14: warning: the value of 'description' contains ': '" in out
    assert "[unquoted-colon]" in out and "0 error(s), 1 warning(s)" in out


def test_the_code_action_quotes_the_value_in_utf16_units() -> None:
    uri = "file:///ws/.opencode/agent/helper.md"
    text = "---\ndescription: 🙂 Use: this\nmode: all\n---\nbody\n"
    [diagnostic] = agentfiles.diagnostics(uri, text)
    assert diagnostic.code == "unquoted-colon"
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic]),
    )
    [action] = agentfiles.quick_fixes(uri, text, params)
    assert action.title == "Quote the value of 'description'"
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.edit is not None and action.edit.changes is not None
    [edit] = action.edit.changes[uri]
    assert (edit.range.start.line, edit.range.start.character) == (1, 13)
    assert (edit.range.end.line, edit.range.end.character) == (1, 13 + 2 + len(" Use: this"))
    assert edit.new_text == '"🙂 Use: this"'
    # A stale diagnostic (the value changed since) gets no fix rather than a wrong edit.
    assert agentfiles.quick_fixes(uri, text.replace("this", "that"), params) == []
