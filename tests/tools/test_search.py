"""grep, glob and list on ripgrep; read rules hide files; the tools offered to an agent."""

from __future__ import annotations

import os
import time
from pathlib import Path

from plangate.agents import load_agent
from plangate.permissions import Action, Policy, Rule
from plangate.tools import ToolContext, tools_for
from plangate.tools.search import GlobTool, GrepTool, ListTool, rg_binary

from .conftest import run

GREP, GLOB, LIST = GrepTool(), GlobTool(), ListTool()


def _tree(workspace: Path) -> None:
    files = {
        "src/app.py": "def handler():\n    return 'TODO fix'\n",
        "src/db.py": "# todo: index\nQUERY = 'select'\n",
        "tests/test_app.py": "def test_handler():\n    assert True\n",
        "build/out.py": "TODO generated\n",
        ".env": "TODO=secret\n",
        "README.md": "# Demo\n",
        ".gitignore": "build/\n",
    }
    for name, text in files.items():
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_rg_is_the_pinned_wheel() -> None:
    assert Path(rg_binary()).name == "rg"


def test_grep_basic_case_include_and_context(ctx: ToolContext, workspace: Path) -> None:
    _tree(workspace)
    (workspace / ".git").mkdir()  # rg honours .gitignore inside a repository
    result = run(GREP.run({"pattern": "TODO"}, ctx))
    assert "src/app.py:2:    return 'TODO fix'" in result.text
    assert "build/out.py" not in result.text  # .gitignore respected
    assert "secret" not in result.text  # .env needs approval to read: hidden
    insensitive = run(GREP.run({"pattern": "todo", "ignore_case": True, "include": "*.py"}, ctx))
    assert "src/db.py:1:# todo: index" in insensitive.text and "README" not in insensitive.text
    context = run(GREP.run({"pattern": "QUERY", "context": 1}, ctx))
    assert "src/db.py-1-# todo: index" in context.text
    none = run(GREP.run({"pattern": "nothing-like-this"}, ctx))
    assert "No matches" in none.text and not none.is_error
    bad = run(GREP.run({"pattern": "("}, ctx))
    assert bad.is_error and "search failed" in bad.text


def test_grep_caps_results_with_a_count(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "many.txt").write_text("hit\n" * 250)
    result = run(GREP.run({"pattern": "hit"}, ctx))
    assert result.data["matches"] == 100 and result.data["more"] == 150
    assert "150 more lines not shown" in result.text


def test_read_deny_rules_hide_files(workspace: Path) -> None:
    _tree(workspace)
    policy = Policy(
        {"read": [Rule(permission="read", pattern="tests/**", action=Action.DENY)]}, workspace
    )
    ctx = ToolContext(workspace=workspace, policy=policy)
    # Each still answers, with everything but the denied files.
    found = run(GREP.run({"pattern": "handler"}, ctx))
    assert "src/app.py:1:def handler():" in found.text and "tests/" not in found.text
    globbed = run(GLOB.run({"pattern": "**/*.py"}, ctx))
    assert "src/app.py" in globbed.text and "src/db.py" in globbed.text
    assert "tests/test_app.py" not in globbed.text
    listed = run(LIST.run({}, ctx))
    assert "app.py" in listed.text and "test_app.py" not in listed.text


def test_glob_newest_first(ctx: ToolContext, workspace: Path) -> None:
    _tree(workspace)
    now = time.time()
    os.utime(workspace / "src" / "db.py", (now - 100, now - 100))
    os.utime(workspace / "src" / "app.py", (now, now))
    result = run(GLOB.run({"pattern": "src/*.py"}, ctx))
    assert result.text.splitlines() == ["src/app.py", "src/db.py"]
    assert "No files" in run(GLOB.run({"pattern": "*.rs"}, ctx)).text


def test_list_tree_with_ignores(ctx: ToolContext, workspace: Path) -> None:
    _tree(workspace)
    (workspace / "node_modules" / "x").mkdir(parents=True)
    (workspace / "node_modules" / "x" / "index.js").write_text("")
    result = run(LIST.run({}, ctx))
    assert "  src/\n    app.py\n    db.py" in result.text
    assert "node_modules" not in result.text and ".env" not in result.text
    assert run(LIST.run({"path": "../"}, ctx)).is_error


def test_tools_offered_follow_the_agent(seed_agent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert [t.name for t in tools_for(seed_agent)] == [
        "read",
        "write",
        "edit",
        "bash",
        "grep",
        "glob",
        "list",
    ]
    reviewer = tmp_path / "reviewer.md"
    reviewer.write_text("---\ntools:\n  bash: false\npermission:\n  edit: deny\n---\nReview.\n")
    names = [t.name for t in tools_for(load_agent(reviewer))]
    assert names == ["read", "grep", "glob", "list"]
    spec = tools_for(seed_agent)[0].spec()
    assert spec["name"] == "read" and spec["input_schema"]["required"] == ["file_path"]
