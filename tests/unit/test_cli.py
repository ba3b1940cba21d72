"""The `plangate` command line, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def plangate(
    *args: str, stdin: str | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plangate.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_done_when_command_denies_naming_rule_and_line() -> None:
    result = plangate(
        "permissions",
        "check",
        "--agent",
        "backend-developer",
        "--bash",
        "FOO=1 git -C . commit -m x && echo ok",
    )
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["action"] == "deny"
    assert decision["rule"]["pattern"] == "git commit"
    assert decision["rule"]["file"] == "agents/backend-developer.md"
    assert decision["rule"]["line"] == 16
    assert "agents/backend-developer.md:16" in decision["reason"]


def test_edit_and_read_checks(tmp_path: Path) -> None:
    edit = plangate(
        "permissions",
        "check",
        "--agent",
        "backend-developer",
        "--workspace",
        str(tmp_path),
        "--edit",
        "config/.env.local",
    )
    assert json.loads(edit.stdout)["action"] == "deny"
    read = plangate(
        "permissions",
        "check",
        "--agent",
        "backend-developer",
        "--workspace",
        str(tmp_path),
        "--read",
        "src/app.py",
    )
    assert json.loads(read.stdout)["action"] == "allow"


def test_jsonl_answers_every_line_and_reports_bad_ones(tmp_path: Path) -> None:
    lines = [
        '{"bash": "git push"}',
        "not json",
        '{"edit": 3}',
        '{"bash": "ls", "edit": "x"}',
        "[1, 2]",
        '{"read": ".env"}',
    ]
    result = plangate(
        "permissions",
        "check",
        "--agent",
        "backend-developer",
        "--workspace",
        str(tmp_path),
        "--jsonl",
        stdin="\n".join(lines) + "\n",
    )
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 6
    assert answers[0]["action"] == "deny"
    assert "invalid JSON" in answers[1]["error"]
    assert '"edit" must be a string' in answers[2]["error"]
    assert "exactly one" in answers[3]["error"]
    assert "expected an object" in answers[4]["error"]
    assert answers[5]["action"] == "ask"


def test_unknown_agent_is_a_clear_error() -> None:
    result = plangate("permissions", "check", "--agent", "nobody", "--bash", "ls")
    assert result.returncode == 2
    assert "no agent named 'nobody'" in result.stderr and "backend-developer" in result.stderr


def test_agent_with_errors_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text('---\npermission:\n  bash:\n    "git push": dny\n---\n')
    result = plangate("permissions", "check", "--agent", str(bad), "--bash", "git push")
    assert result.returncode == 1
    assert f"{bad}:4:17: error:" in result.stderr or "bad.md:4:17: error:" in result.stderr


def test_check_reports_positions_and_exit_status(tmp_path: Path) -> None:
    good = plangate("check", "agents")
    assert good.returncode == 0
    assert "agents/backend-developer.md:4:8: warning:" in good.stdout
    bad = tmp_path / "agents" / "bad.md"
    bad.parent.mkdir()
    bad.write_text("---\nmode: boss\ntempreature: 0.1\n---\n")
    result = plangate("check", str(bad.parent), cwd=tmp_path)
    assert result.returncode == 1
    assert "agents/bad.md:2:7: error:" in result.stdout
    assert "agents/bad.md:3:1: warning: unknown key 'tempreature'" in result.stdout
    assert "did you mean 'temperature'" in result.stdout
    missing = plangate("check", str(tmp_path / "nope.md"))
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_check_warns_that_sampling_keys_are_ignored(tmp_path: Path) -> None:
    seed = plangate("check", "agents/backend-developer.md")
    assert seed.returncode == 0, seed.stdout
    assert seed.stdout.splitlines() == [
        "agents/backend-developer.md:4:8: warning: claude-sonnet-4 was retired on 2026-06-15; "
        "using its successor claude-sonnet-4-6 [model-retired]",
        "agents/backend-developer.md:5:1: warning: ignored: the Messages API no longer accepts "
        "temperature [sampling-ignored]",
        "1 agent(s) checked: 0 error(s), 2 warning(s), 0 note(s)",
    ]
    other = tmp_path / "agents" / "other.md"
    other.parent.mkdir()
    other.write_text("---\ndescription: x\ntop_p: 0.9\ntop_k: 40\nthinking: sometimes\n---\n")
    result = plangate("check", "agents", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:3] == [
        "agents/other.md:3:1: warning: ignored: the Messages API no longer accepts top_p "
        "[sampling-ignored]",
        "agents/other.md:4:1: warning: ignored: the Messages API no longer accepts top_k "
        "[sampling-ignored]",
        "agents/other.md:5:11: error: 'sometimes' is not a thinking type (adaptive, enabled or "
        "disabled) [invalid-value]",
    ]


def test_agents_listing_and_demo() -> None:
    listing = plangate("agents")
    assert "backend-developer" in listing.stdout and "bundled" in listing.stdout
    demo = plangate("demo")
    assert demo.returncode == 0, demo.stdout[-2000:]
    assert ": completed (every phase is done)" in demo.stdout
