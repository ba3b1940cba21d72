"""`plangate demo`, end to end: the outcome, not the wording."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

from plangate.demo.run import CHECK, run_demo, sample_dir
from plangate.workflow.state import PhaseStatus, Status


def test_sample_tests_pass_before_the_demo(tmp_path: Path) -> None:
    run = subprocess.run(
        CHECK.split(), cwd=sample_dir(), capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr


def test_demo_runs_the_whole_workflow_offline(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)  # no key needed
    out = io.StringIO()
    status, state, project = run_demo(out, tmp_path / "tasks-api")
    assert status == 0, out.getvalue()[-3000:]
    assert state.status is Status.COMPLETED
    assert set(state.phases.values()) == {PhaseStatus.DONE} and len(state.phases) == 4
    # One validation failed and the model fixed it within the phase.
    assert [r[0]["passed"] for r in state.validations[2]] == [False, True]
    # The denials happened and were reported.
    assert (project / ".env").read_text() == "DATABASE_URL=sqlite:///tasks.db\n"
    refused = [r["text"] for r in state.results.values() if r["is_error"]]
    assert any(".env" in t and "not allowed" in t for t in refused)
    assert any("git add" in t and "denied" in t for t in refused)
    # The sample's own tests pass afterwards, with the new ones.
    run = subprocess.run(
        CHECK.split(), cwd=project, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0 and "Ran 8 tests" in run.stderr
    # The test of the cache is outside what phase 3 declared: one amendment, approved.
    assert [(a.phase, a.files) for a in state.amendments] == [(3, ["tests/test_cache.py"])]
    assert "priority" in (project / "app" / "db.py").read_text()
    assert (project / "docs" / "API.md").exists()
    assert str(project) in out.getvalue()


def test_demo_prepare_writes_the_sample_to_try_in_an_editor(tmp_path: Path) -> None:
    """`plangate demo --prepare DIR`: the README's offline try-out in an editor starts here."""
    target = tmp_path / "tasks-api"
    done = subprocess.run(
        [sys.executable, "-m", "plangate.cli", "demo", "--prepare", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (target / ".env").read_text().startswith("DATABASE_URL=")
    assert (target / ".plangate" / "config.toml").exists() and (target / "app" / "db.py").exists()
    assert "Add task priorities" in done.stdout
    again = subprocess.run(
        [sys.executable, "-m", "plangate.cli", "demo", "--prepare", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1 and "exists" in again.stderr


def test_the_record_of_the_demo_session_holds_what_an_audit_needs(tmp_path: Path) -> None:
    """`plangate record SESSION`: plan, amendments with who and when, phase approvals, diffs,
    validation and acceptance results, denied attempts, cost; and no secret."""
    status, state, project = run_demo(io.StringIO(), tmp_path / "tasks-api")
    assert status == 0
    out = tmp_path / "record.md"
    done = subprocess.run(
        [sys.executable, "-m", "plangate.cli", "record", state.id, "-o", str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == ["## Plan", "## Amendments", "## Phases", "## Denied attempts", "## Cost"]
    assert "### The approved plan" in text and "#### Phase 3: Optimisation" in text
    assert "- version 1: approve by --approve plan" in text
    amendment = text.split("## Amendments")[1].split("## Phases")[0]
    assert "Phase 3 also changes `tests/test_cache.py`: A stale cache" in amendment
    assert "approve by --approve amendments" in amendment and " UTC" in amendment
    assert "+- `tests/test_cache.py`" in amendment
    for index in range(1, 5):
        phase = text.split(f"\n### Phase {index}: ")[1].split("\n### Phase")[0]
        assert "(done)" in phase.splitlines()[0]
        assert "- Approval: approve by --approve phases" in phase
        assert "```diff" in phase and "PASS" in phase
    phase_2 = text.split("\n### Phase 2: ")[1].split("\n### Phase 3")[0]
    assert phase_2.index("- FAIL") < phase_2.index("- PASS")  # the typo, then the fix
    assert '+PRIORITIES = ("low", "nomral", "high")' in phase_2
    assert "- PASS acceptance: The tests cover GET /tasks (route GET /tasks)" in text
    assert "- PASS acceptance: Every endpoint and error is documented (file docs/API.md)" in text
    denied = text.split("## Denied attempts")[1]
    assert "edit `.env`" in denied and "`git add -A` matches `git add`" in denied
    assert re.search(r"- Cost: \$\d+\.\d{4}", text)
    # No secret: not the sample's .env, not the API key the demo used.
    assert "sqlite:///tasks.db" not in text and "offline-demo" not in text
