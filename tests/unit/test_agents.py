"""Agent files: both formats, diagnostics with positions, discovery order, bundled agents."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from plangate.agents import AgentFormat, Origin, discover, find_agent, load_agent
from plangate.agents.discovery import bundled_agents_dir
from plangate.diagnostics import Severity
from plangate.model.types import Thinking
from plangate.permissions.rules import Action

TODAY = date(2026, 11, 25)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_seed_agent_loads_with_every_field(seed_agent) -> None:  # type: ignore[no-untyped-def]
    assert seed_agent.name == "backend-developer"
    assert seed_agent.mode == "primary"
    assert seed_agent.thinking is None  # the model table's default
    assert seed_agent.tools == {t: True for t in ("read", "write", "edit", "bash", "grep", "glob")}
    bash = {rule.pattern: rule.action for rule in seed_agent.permission["bash"]}
    assert bash["git commit"] is Action.DENY and len(bash) == 9
    assert next(r.pattern for r in seed_agent.permission["edit"]) == "**/*.env*"
    assert seed_agent.prompt.startswith("# Backend Developer")
    commit = next(r for r in seed_agent.permission["bash"] if r.pattern == "git commit")
    assert commit.pos is not None and (commit.pos.line, commit.pos.column) == (16, 5)


def test_seed_model_is_resolved_to_successor_with_warning(seed_agent) -> None:  # type: ignore[no-untyped-def]
    assert seed_agent.model == "anthropic/claude-sonnet-4"
    assert seed_agent.model_id == "claude-sonnet-4-6"
    [warning] = [d for d in seed_agent.diagnostics if d.code == "model-retired"]
    assert warning.severity is Severity.WARNING
    assert "claude-sonnet-4" in warning.message and "claude-sonnet-4-6" in warning.message
    assert (warning.pos.line, warning.pos.column) == (4, 8)


def test_seed_temperature_is_ignored_with_one_warning(seed_agent) -> None:  # type: ignore[no-untyped-def]
    assert not seed_agent.errors
    assert [d.code for d in seed_agent.diagnostics] == ["model-retired", "sampling-ignored"]
    [ignored] = [d for d in seed_agent.diagnostics if d.code == "sampling-ignored"]
    assert ignored.severity is Severity.WARNING
    assert ignored.message == "ignored: the Messages API no longer accepts temperature"
    assert (ignored.pos.line, ignored.pos.column) == (5, 1)
    assert not hasattr(seed_agent, "temperature")


@pytest.mark.parametrize("claude", [False, True], ids=["opencode", "claude-code"])
def test_every_sampling_key_is_ignored_whatever_its_value(tmp_path: Path, claude: bool) -> None:
    folder = tmp_path / ".claude" / "agents" if claude else tmp_path
    agent = load_agent(
        write(
            folder / "a.md",
            """
            ---
            name: a
            description: x
            temperature: 3
            top_p: lots
            top_k:
              - 40
            ---
            """,
        ),
        today=TODAY,
    )
    assert agent.source.format is (AgentFormat.CLAUDE if claude else AgentFormat.OPENCODE)
    assert not agent.errors
    ignored = [
        (d.severity, d.pos.line, d.pos.column, d.message)
        for d in agent.diagnostics
        if d.code == "sampling-ignored"
    ]
    assert ignored == [
        (Severity.WARNING, line, 1, f"ignored: the Messages API no longer accepts {key}")
        for line, key in ((4, "temperature"), (5, "top_p"), (6, "top_k"))
    ]
    # Known (and ignored) keys; `name` is known in both formats (opencode: it names the agent).
    assert [d for d in agent.diagnostics if d.code == "unknown-key"] == []


def test_thinking_forms(tmp_path: Path) -> None:
    def thinking(text: str) -> object:
        agent = load_agent(write(tmp_path / "t.md", f"---\n{text}\n---\n"), today=TODAY)
        assert agent.diagnostics == [], agent.diagnostics
        return agent.thinking

    assert thinking("description: x") is None
    assert thinking("thinking: adaptive") == Thinking(type="adaptive")
    assert thinking("thinking: enabled") == Thinking(type="enabled")
    assert thinking("thinking: disabled") == Thinking(type="disabled")
    assert thinking("thinking:\n  type: enabled\n  budget_tokens: 8000") == Thinking(
        type="enabled", budget_tokens=8000
    )
    assert thinking("thinking: {type: enabled, budgetTokens: 1024}") == Thinking(
        type="enabled", budget_tokens=1024
    )
    assert thinking("thinking: {type: adaptive, display: omitted}") == Thinking(
        type="adaptive", display="omitted"
    )
    # A budget alone can only mean manual extended thinking.
    assert thinking("thinking: {budget_tokens: 2048, display: summarized}") == Thinking(
        type="enabled", budget_tokens=2048, display="summarized"
    )


@pytest.mark.parametrize(
    ("frontmatter", "line", "column", "words"),
    [
        ("thinking: sometimes", 2, 11, "not a thinking type"),
        ("thinking: adaptve", 2, 11, "did you mean 'adaptive'"),
        ("thinking: false", 2, 11, "write 'disabled'"),
        ("thinking:\n  type: hard\n", 3, 9, "not a thinking type"),
        ("thinking:\n  type: enabled\n  budget_tokens: 1000", 4, 18, "at least 1,024"),
        ("thinking:\n  type: enabled\n  budgetTokens: many", 4, 17, "whole number"),
        (
            "thinking:\n  type: adaptive\n  budget_tokens: 4096",
            4,
            3,
            "only goes with type 'enabled'",
        ),
        ("thinking: {type: disabled, display: omitted}", 2, 28, "only goes with type 'adaptive'"),
        ("thinking:\n  display: hidden", 3, 12, "summarized or omitted"),
        (
            "model: anthropic/claude-sonnet-4-6\nthinking: {type: enabled, budget_tokens: 9999999}",
            3,
            42,
            "output limit",
        ),
    ],
)
def test_thinking_errors_at_their_position(
    tmp_path: Path, frontmatter: str, line: int, column: int, words: str
) -> None:
    agent = load_agent(write(tmp_path / "t.md", f"---\n{frontmatter}\n---\n"), today=TODAY)
    [error] = agent.errors
    assert error.code == "invalid-value" and words in error.message, error.message
    assert (error.pos.line, error.pos.column) == (line, column)
    assert agent.thinking is None


def test_thinking_unknown_and_duplicate_keys_warn(tmp_path: Path) -> None:
    agent = load_agent(
        write(
            tmp_path / "t.md",
            """
            ---
            thinking:
              type: enabled
              budget_tokens: 4096
              budgetTokens: 2048
              budget: 1
            ---
            """,
        ),
        today=TODAY,
    )
    assert not agent.errors
    assert agent.thinking == Thinking(type="enabled", budget_tokens=4096)
    found = {(d.code, d.pos.line, d.pos.column) for d in agent.diagnostics}
    assert found == {("duplicate-key", 5, 3), ("unknown-key", 6, 3)}


def test_claude_code_files_have_no_thinking_key(tmp_path: Path) -> None:
    path = write(
        tmp_path / ".claude" / "agents" / "t.md",
        "---\nname: t\ndescription: d\nthinking: enabled\n---\n",
    )
    agent = load_agent(path, today=TODAY)
    assert agent.thinking is None
    [warning] = agent.diagnostics
    assert warning.code == "unknown-key" and "'thinking'" in warning.message


def test_unknown_key_warns_with_closest_known_key(tmp_path: Path) -> None:
    agent = load_agent(
        write(
            tmp_path / "a.md",
            """
            ---
            description: x
            permisions:
              bash:
                "git push": deny
            ---
            body
            """,
        ),
        today=TODAY,
    )
    [diag] = agent.diagnostics
    assert diag.severity is Severity.WARNING
    assert "permisions" in diag.message and "did you mean 'permissions'" in diag.message
    assert (diag.pos.line, diag.pos.column) == (3, 1)
    assert agent.permission == {}


def test_invalid_action_and_value_are_errors_at_their_position(tmp_path: Path) -> None:
    agent = load_agent(
        write(
            tmp_path / "a.md",
            """
            ---
            steps: 0
            mode: boss
            permission:
              bash:
                "git push": dney
              edits: deny
            tools:
              reed: true
            ---
            """,
        ),
        today=TODAY,
    )
    by_code = {(d.code, d.pos.line): d for d in agent.diagnostics}
    assert by_code[("invalid-value", 2)].severity is Severity.ERROR
    assert by_code[("invalid-value", 3)].severity is Severity.ERROR
    action = by_code[("invalid-action", 6)]
    assert "did you mean 'deny'" in action.message and action.pos.column == 17
    assert "did you mean 'edit'" in by_code[("unknown-key", 7)].message
    assert "did you mean 'read'" in by_code[("unknown-tool", 9)].message
    assert agent.errors and not agent.permission.get("bash")


def test_yaml_error_has_position(tmp_path: Path) -> None:
    agent = load_agent(write(tmp_path / "a.md", "---\ndescription: [oops\n---\n"), today=TODAY)
    [diag] = agent.errors
    assert diag.code == "yaml" and diag.pos.line >= 2


def test_duplicate_keys_warn(tmp_path: Path) -> None:
    agent = load_agent(
        write(
            tmp_path / "a.md",
            """
            ---
            permission:
              bash:
                "git push": deny
                "git push": allow
            ---
            """,
        ),
        today=TODAY,
    )
    assert any(d.code == "duplicate-key" and d.pos.line == 5 for d in agent.diagnostics)


def test_single_action_permission_and_both_spellings(tmp_path: Path) -> None:
    agent = load_agent(
        write(
            tmp_path / "a.md",
            """
            ---
            permission:
              edit: deny
            permissions:
              bash: ask
            steps: 5
            ---
            """,
        ),
        today=TODAY,
    )
    assert [r.pattern for r in agent.permission["edit"]] == ["*"]
    assert agent.permission["bash"][0].action is Action.ASK
    assert agent.steps == 5
    assert any(d.code == "duplicate-key" for d in agent.diagnostics)


def test_unknown_and_deprecated_models(tmp_path: Path) -> None:
    unknown = load_agent(
        write(tmp_path / "u.md", "---\nmodel: anthropic/claude-9\n---\n"), today=TODAY
    )
    [error] = unknown.errors
    assert "claude-sonnet-4-6" in error.message  # the known models are listed
    other = load_agent(write(tmp_path / "o.md", "---\nmodel: openai/gpt-5\n---\n"), today=TODAY)
    assert other.errors and "not supported" in other.errors[0].message
    old = load_agent(
        write(tmp_path / "d.md", "---\nmodel: anthropic/claude-sonnet-4-5\n---\n"), today=TODAY
    )
    [warning] = old.diagnostics
    assert "2026-11-30" in warning.message and old.model_id == "claude-sonnet-4-5"
    after = load_agent(
        write(tmp_path / "d.md", "---\nmodel: anthropic/claude-sonnet-4-5\n---\n"),
        today=date(2026, 12, 1),
    )
    assert after.model_id != "claude-sonnet-4-5"


def test_claude_code_subagent(tmp_path: Path) -> None:
    path = write(
        tmp_path / ".claude" / "agents" / "reviewer.md",
        """
        ---
        name: code-reviewer
        description: Reviews code
        tools: Read, Grep, Glob, Bash, Telepathy
        model: sonnet
        ---
        You review code.
        """,
    )
    agent = load_agent(path, today=TODAY)
    assert agent.source.format is AgentFormat.CLAUDE
    assert agent.name == "code-reviewer" and agent.mode == "subagent"
    assert agent.tool_enabled("read") and agent.tool_enabled("bash")
    assert not agent.tool_enabled("write") and not agent.tool_enabled("edit")
    assert agent.model_id is not None and agent.model_id.startswith("claude-sonnet")
    assert any("Telepathy" in d.message for d in agent.diagnostics)
    inherit = write(tmp_path / ".claude" / "agents" / "i.md", "---\nname: i\nmodel: inherit\n---\n")
    assert load_agent(inherit, today=TODAY).model_id is None


def test_discovery_order_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    ws = tmp_path / "ws"
    write(ws / ".opencode" / "agent" / "backend-developer.md", "---\ndescription: mine\n---\n")
    write(ws / ".opencode" / "agents" / "review" / "security.md", "---\ndescription: sec\n---\n")
    write(ws / ".claude" / "agents" / "helper.md", "---\nname: helper\ndescription: h\n---\n")
    write(
        tmp_path / "config" / "plangate" / "agents" / "helper.md", "---\ndescription: user\n---\n"
    )
    listing = discover(ws, TODAY)
    assert listing.agents["backend-developer"].source.origin is Origin.OPENCODE
    assert listing.agents["review/security"].description == "sec"
    assert listing.agents["helper"].source.origin is Origin.USER
    overridden = {(a.name, a.source.origin) for a in listing.overridden}
    assert overridden == {("backend-developer", Origin.BUNDLED), ("helper", Origin.CLAUDE)}


def test_find_agent_by_name_or_path(tmp_path: Path) -> None:
    assert find_agent("backend-developer", tmp_path).source.origin is Origin.BUNDLED
    path = write(tmp_path / "x.md", "---\ndescription: x\n---\n")
    assert find_agent(str(path), tmp_path).name == "x"
    with pytest.raises(LookupError, match="backend-developer"):
        find_agent("nope", tmp_path)


def test_bundled_agent_is_the_seed_byte_for_byte() -> None:
    seed = Path(__file__).resolve().parents[3] / "shared" / "seed" / "backend-developer.md"
    if not seed.exists():
        pytest.skip(f"the shared seed is not beside this checkout ({seed})")
    assert (bundled_agents_dir() / "backend-developer.md").read_bytes() == seed.read_bytes()


def _apply(text: str, edit: object) -> str:
    """Apply one LSP TextEdit (positions within plain ASCII lines) to `text`."""
    from lsprotocol import types

    assert isinstance(edit, types.TextEdit)
    lines = text.split("\n")

    def offset(pos: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: pos.line]) + pos.character

    return text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]


@pytest.mark.parametrize(
    ("text", "removed"),
    [
        ("---\ndescription: x\ntemperature: 0.2\nsteps: 3\n---\nbody\n", "temperature: 0.2\n"),
        ("---\ntop_k:\n  - 40\n\n  - 41\nsteps: 3\n---\n", "top_k:\n  - 40\n\n  - 41\n"),
        ("---\ntop_k:\n- 40\n- 41\n\nsteps: 3\n---\n", "top_k:\n- 40\n- 41\n"),
        ("---\ntop_p: >\n  0.9\n---\n", "top_p: >\n  0.9\n"),
        ('---\n"temperature": 1 # warm\nmode: all\n---\n', '"temperature": 1 # warm\n'),
        ("---\r\ntemperature: 0.2\r\nmode: all\r\n---\r\n", "temperature: 0.2\r\n"),
    ],
    ids=["line", "block", "sequence-at-key-indent", "folded", "quoted-key", "crlf"],
)
def test_quick_fix_removes_the_sampling_key_and_its_block(text: str, removed: str) -> None:
    from lsprotocol import types

    from plangate.lsp import agentfiles

    uri = "file:///ws/.opencode/agent/a.md"
    [diagnostic] = [d for d in agentfiles.diagnostics(uri, text) if d.code == "sampling-ignored"]
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.tags == [types.DiagnosticTag.Unnecessary]
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic]),
    )
    [fix] = agentfiles.quick_fixes(uri, text, params)
    assert fix.kind == types.CodeActionKind.QuickFix and fix.diagnostics == [diagnostic]
    assert fix.title.startswith("Remove '") and "no longer accepts" in fix.title
    assert fix.edit is not None and fix.edit.changes is not None
    [edit] = fix.edit.changes[uri]
    assert _apply(text, edit) == text.replace(removed, "", 1)
    # A stale diagnostic (the line changed since) gets no fix rather than a wrong edit.
    assert agentfiles.quick_fixes(uri, text.replace(removed, "", 1), params) == []


def test_hover_explains_ignored_sampling_keys_and_thinking() -> None:
    from lsprotocol import types

    from plangate.lsp import agentfiles

    text = "---\ntemperature: 0.2\ntop_k: 5\nthinking: adaptive\n---\n"

    def doc(line: int) -> str:
        found = agentfiles.hover(text, types.Position(line=line, character=1))
        assert found is not None and isinstance(found.contents, types.MarkupContent)
        return found.contents.value

    assert "Ignored" in doc(1) and "2026-10-21" in doc(1)
    assert "Ignored" in doc(2)
    assert "adaptive" in doc(3) and "budget_tokens" in doc(3)


def test_a_command_pattern_that_can_never_match_is_a_warning(tmp_path: Path) -> None:
    text = (
        "---\npermission:\n  bash:\n"
        '    "cd * && rm *": deny\n    "ls | grep x": allow\n    "rm -rf*": deny\n---\nx\n'
    )
    agent = load_agent(write(tmp_path / "a.md", text), today=TODAY)
    never = [(d.pos.line, d.severity) for d in agent.diagnostics if d.code == "never-matches"]
    assert never == [(4, Severity.WARNING), (5, Severity.WARNING)]  # not `rm -rf*`: it matches
    assert not agent.errors


def test_a_claude_tool_pattern_is_not_applied_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "agents" / "a.md"
    path.parent.mkdir(parents=True)
    agent = load_agent(
        write(path, "---\nname: a\ndescription: b\ntools: Read, Bash(git *)\n---\nx\n")
    )
    [warning] = [d for d in agent.diagnostics if d.code == "tool-pattern"]
    assert "gets all of Bash" in warning.message and agent.tool_enabled("bash")
