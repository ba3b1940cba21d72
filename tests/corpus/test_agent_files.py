"""Real agent files from public repositories (tests/agent_corpus/; where each came from, at
which commit and under which license: SOURCES.md; the hard cases each shows: NOTES.md).

Every file loads with no error but true ones (a model PlanGate cannot call, a file no YAML
reader accepts), and every bash and edit rule in them is enforced at least as strictly as
opencode enforces it. opencode's decision comes from an independent implementation of its
documented algorithm (the last matching rule decides; `*` is any text; a trailing ` *` may
match nothing; permission names are matched the same way; no match: its default, allow).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from plangate.agents.definition import Agent, AgentFormat, AgentSource, Origin
from plangate.agents.discovery import config_agent, with_project
from plangate.agents.opencode_config import ProjectConfig, read_file
from plangate.agents.parse import parse_agent
from plangate.diagnostics import Severity
from plangate.permissions import Policy
from plangate.permissions.rules import Action

CORPUS = Path(__file__).resolve().parents[1] / "agent_corpus"
TODAY = date(2026, 11, 29)
# True errors: the model is not a Claude model (PlanGate runs only those).
TRUE_ERRORS = {"model-provider"}
# Invalid YAML even after opencode's fallback (a line break inside an unquoted value); Claude
# Code skips such files too.
BROKEN = {"files/affaan-m__everything-claude-code/docs__ja-JP__agents__go-reviewer.md"}
STRICTNESS = {"allow": 0, "ask": 1, "deny": 2}


@dataclass(frozen=True)
class Entry:
    """One file of the corpus, as SOURCES.md lists it."""

    local: str
    repository: str
    path: str
    format: str

    @property
    def file(self) -> Path:
        return CORPUS / self.local


def _entries() -> list[Entry]:
    rows = []
    for line in (CORPUS / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `files/"):
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
            rows.append(Entry(cells[0], cells[1], cells[2], cells[5]))
    return rows


ENTRIES = _entries()


def _loaded(entry: Entry) -> tuple[list[Agent], list[Any], dict[str, Any] | None]:
    """The agents PlanGate reads from a file, the file's own diagnostics, and (for a config
    file) its data."""
    if "config" in entry.format:
        config = read_file(entry.file)
        block = config.parsed.data.get("agent")
        names = (
            [n for n, s in block.items() if isinstance(s, dict)] if isinstance(block, dict) else []
        )
        project = ProjectConfig([config])
        agents = [with_project(config_agent(config, n, TODAY), project) for n in names]
        if not agents:  # rules alone: they apply to any agent
            agents = [with_project(_bare(entry.file), project)]
        return agents, config.parsed.diagnostics, config.parsed.data
    fmt = AgentFormat.CLAUDE if entry.format == "claude-code" else AgentFormat.OPENCODE
    text = entry.file.read_text(encoding="utf-8")
    return [parse_agent(text, Path(entry.path), fmt=fmt, today=TODAY)], [], None


def _bare(path: Path) -> Agent:
    return Agent(
        name="any",
        source=AgentSource(path=path, origin=Origin.EXPLICIT, format=AgentFormat.OPENCODE),
    )


def test_the_corpus_is_large_and_varied() -> None:
    assert len(ENTRIES) >= 100, len(ENTRIES)
    assert len({e.repository for e in ENTRIES}) >= 10
    assert {e.format for e in ENTRIES} >= {"opencode", "claude-code"}
    assert all(e.file.is_file() for e in ENTRIES), [
        e.local for e in ENTRIES if not e.file.is_file()
    ]


def test_every_file_loads_with_no_false_error() -> None:
    false_errors = []
    for entry in ENTRIES:
        agents, diagnostics, _ = _loaded(entry)
        found = [*diagnostics, *(d for a in agents for d in a.diagnostics)]
        for d in found:
            if (
                d.severity is Severity.ERROR
                and d.code not in TRUE_ERRORS
                and entry.local not in BROKEN
            ):
                false_errors.append(f"{entry.local}:{d.pos.line}: {d.code}: {d.message}")
    assert false_errors == []
    # The broken file is still an error (at the place YAML gives).
    [broken] = [e for e in ENTRIES if e.local in BROKEN]
    [agent], _, _ = _loaded(broken)
    assert [d.code for d in agent.errors] == ["yaml"]


# ---------------------------------------------------------------- opencode's decision


def _wildcard(pattern: str) -> re.Pattern[str]:
    """opencode's Wildcard.match, written from its documentation."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    if regex.endswith(re.escape(" ") + ".*"):
        regex = regex[: -len(re.escape(" ") + ".*")] + "(" + re.escape(" ") + ".*)?"
    return re.compile(regex, re.DOTALL)


Rule = tuple[str, str, str]  # permission name, pattern, action


def _rules_of(block: Any) -> list[Rule]:
    """A permission block as opencode's ordered rules (its three forms)."""
    if isinstance(block, str):
        return [("*", "*", block)]
    if isinstance(block, list):
        renamed = {"shell": "bash", "subagent": "task"}
        return [
            (
                renamed.get(str(r["action"]), str(r["action"])),
                str(r.get("resource", "*")),
                str(r["effect"]),
            )
            for r in block
            if isinstance(r, dict) and "action" in r and "effect" in r
        ]
    rules: list[Rule] = []
    for name, spec in (block or {}).items():
        if isinstance(spec, str):
            rules.append((str(name), "*", spec))
        elif isinstance(spec, dict):
            rules += [(str(name), str(p), str(a)) for p, a in spec.items() if isinstance(a, str)]
    return rules


def _opencode_rules(data: dict[str, Any]) -> list[Rule]:
    """An agent's rules in opencode's order: its `tools` map first, then its permission blocks."""
    tools = data.get("tools")
    rules: list[Rule] = []
    if isinstance(tools, dict):
        for tool, on in tools.items():
            name = "edit" if tool in ("write", "edit", "patch", "multiedit") else str(tool)
            rules.append((name, "*", "allow" if on else "deny"))
    for key in ("permission", "permissions"):
        rules += _rules_of(data.get(key))
    return [r for r in rules if r[2].strip().lower() in STRICTNESS]


def _opencode(rules: list[Rule], permission: str, value: str) -> str:
    for name, pattern, action in reversed(rules):
        if _wildcard(name).fullmatch(permission) and _wildcard(pattern).fullmatch(value):
            return action.strip().lower()
    return "allow"  # opencode's defaults begin with "*": allow


def _samples(pattern: str) -> set[str]:
    """Commands or paths a pattern matches in opencode, with `*` as a word and as text."""
    found = set()
    for fill in ("x", " x", "", "a/b"):
        text = " ".join(pattern.replace("**", fill).replace("*", fill).split())
        if text and _wildcard(pattern).fullmatch(text):
            found.add(text)
    return found


def _agent_rules(entry: Entry) -> list[tuple[Agent, list[Rule]]]:
    agents, _, config = _loaded(entry)
    if config is not None:
        top = _rules_of(config.get("permission"))
        block = config.get("agent") if isinstance(config.get("agent"), dict) else {}
        by_name = {a.name: a for a in agents}
        if not block:
            return [(agents[0], top)]
        return [
            (by_name[name], top + _opencode_rules(spec))
            for name, spec in block.items()
            if isinstance(spec, dict) and name in by_name
        ]
    if entry.format != "opencode":
        return []
    from plangate.agents.frontmatter import parse_frontmatter

    data = parse_frontmatter(entry.file.read_text(encoding="utf-8"), entry.file).data
    return [(agents[0], _opencode_rules(data))]


def _usable(kind: str, sample: str) -> bool:
    """A sample that is a command (not a bare redirection or operator) or a file (not a
    folder): what the tools are asked to run or change."""
    if kind == "bash":
        # (bash -n: it parses; `$(` alone is no command.)
        parses = subprocess.run(["bash", "-n", "-c", sample], capture_output=True, check=False)
        return bool(re.match(r"[\w./~$]", sample)) and parses.returncode == 0
    return bool(sample) and not sample.endswith("/")


ANY = {"bash": "ls -la", "edit": "src/app.py"}


@pytest.mark.parametrize(
    "entry", [e for e in ENTRIES if "opencode" in e.format], ids=lambda e: e.local
)
def test_every_rule_is_enforced_at_least_as_strictly_as_opencode(
    entry: Entry, tmp_path: Path
) -> None:
    weaker = []
    for agent, rules in _agent_rules(entry):
        policy = Policy(agent.permission, tmp_path)
        for name, pattern, _ in rules:
            for kind in ("bash", "edit"):
                # A tool PlanGate does not offer at all is stricter than any rule.
                tools = ("bash",) if kind == "bash" else ("edit", "write")
                if not any(agent.tool_enabled(t) for t in tools):
                    continue
                if not _wildcard(name).fullmatch(kind):
                    continue
                samples = _samples(pattern) if pattern != "*" else {ANY[kind]}
                for sample in (s for s in samples if _usable(kind, s)):
                    theirs = _opencode(rules, kind, sample)
                    check = policy.check_bash if kind == "bash" else policy.check_edit
                    decided = check(sample)
                    if STRICTNESS[decided.action.value] < STRICTNESS[theirs]:
                        weaker.append(
                            f"{agent.name}: {kind} {sample!r}: opencode {theirs}, "
                            f"PlanGate {decided.action.value} ({decided.reason})"
                        )
    assert weaker == []


def test_the_hard_cases_are_read_as_opencode_reads_them(tmp_path: Path) -> None:
    """The issue's cases, on the real files that show them: a top-level `"*": deny`, a
    wildcard glued to a flag, a pattern on the command's text. (The corpus's
    `"git push --force*"` rules sit directly under `permission:`, where opencode applies them
    to nothing: a warning says so.)"""
    cases = [
        ('"*": deny', "edit", "src/app.py"),
        ('"rm -rf*"', "bash", "rm -rf target"),
        ('"*$(*"', "bash", "echo $(date)"),
    ]
    for marker, kind, value in cases:
        files = [e for e in ENTRIES if "opencode" in e.format and marker in e.file.read_text()]
        assert files, f"no file in the corpus shows {marker}"
        checked = 0
        for entry in files:
            for agent, rules in _agent_rules(entry):
                if _opencode(rules, kind, value) != "deny":
                    continue
                policy = Policy(agent.permission, tmp_path)
                decided = policy.check_bash(value) if kind == "bash" else policy.check_edit(value)
                tool = "bash" if kind == "bash" else "edit"
                assert decided.action is Action.DENY or not agent.tool_enabled(tool), (
                    entry.local,
                    decided.reason,
                )
                checked += 1
        assert checked, f"no agent where opencode denies {value!r} ({marker})"
