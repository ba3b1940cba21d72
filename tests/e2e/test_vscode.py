"""A real VS Code: code-server (VS Code 1.100) in headless Chromium, driven by playwright-core.

The extension is built (`make package`) and installed into a fresh code-server; a copy of the
demo's sample backend is opened; "PlanGate: Propose Plan…" runs from the command palette against
the scripted model; the plan's code lenses approve the plan and phase 1; the phase's edits are
reviewed in diffs (accepted whole, or one hunk rejected from its lens) or, with the setting, in
the Refactor Preview; the file changes on disk and phase 1's lens turns to done.
A third run then goes through every other palette command (driver.js --palette) and checks what
each showed: the plan, the logs, the sessions, a rollback, a skip, a revision, a new API key (and
that no log holds it), a cancel, a refused approval and a restart.
Screenshots of every step, the driver's report.json and the servers' logs are kept in
tests/e2e/vscode/artefacts/run-*/ (git-ignored; the newest runs are kept).

The tools are installed once, outside the repository (tests/e2e/vscode/setup.sh, cached in
~/.cache/plangate-e2e): a cold install compiles native modules for a few minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "vscode"
ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
ARTEFACTS = HERE / "artefacts"
CANNOT_INSTALL = 3  # setup.sh: this machine cannot have the tools (the test skips)
DRIVER_TIMEOUT = 240  # seconds for the whole scenario once everything is installed
KEEP_RUNS = 8


def _tail(text: str, n: int = 3000) -> str:
    return text[-n:]


@pytest.fixture(scope="module")
def e2e_cache() -> Path:
    """code-server, playwright-core and chromium, installed (or found in the cache)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("VS Code e2e: node and npm are not installed on this machine")
    setup = subprocess.run(
        ["bash", str(HERE / "setup.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if setup.returncode == CANNOT_INSTALL:
        pytest.skip(f"VS Code e2e: {setup.stderr.strip().splitlines()[-1]}")
    assert setup.returncode == 0, f"setup.sh failed:\n{_tail(setup.stderr)}"
    return Path(setup.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def vsix() -> Path:
    """The extension, packaged by its own `make package`."""
    if not (EXTENSION / "package.json").exists():
        pytest.skip("VS Code e2e: extension/ is not in this checkout")
    build = subprocess.run(
        ["make", "-C", str(ROOT), "package"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, f"make package failed:\n{_tail(build.stdout + build.stderr)}"
    built = sorted((EXTENSION / "dist").glob("*.vsix"), key=lambda p: p.stat().st_mtime)
    assert built, f"make package made no .vsix:\n{_tail(build.stdout)}"
    return built[-1]


def _artefacts() -> Path:
    """A folder of its own for this run (runs may overlap); older runs beyond KEEP_RUNS go."""
    ARTEFACTS.mkdir(exist_ok=True)
    runs = sorted(ARTEFACTS.glob("run-*"), key=lambda p: p.stat().st_mtime)
    for old in runs[: max(0, len(runs) - KEEP_RUNS + 1)]:
        shutil.rmtree(old, ignore_errors=True)
    out = ARTEFACTS / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    out.mkdir()
    return out


def _drive(cache: Path, *extra: str) -> tuple[Path, dict[str, Any], str]:
    """Run the driver once: its artefacts folder, its report and its log."""
    out = _artefacts()
    command = [
        "node",
        str(HERE / "driver.js"),
        "--cache",
        str(cache),
        "--python",
        sys.executable,
        "--out",
        str(out),
        "--timeout",
        str(DRIVER_TIMEOUT),
        *extra,
    ]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT + 90,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    print(f"screenshots and logs: {out}")
    print(_tail(run.stderr, 4000))
    report_file = out / "report.json"
    assert report_file.exists(), f"the driver wrote no report:\n{_tail(run.stderr)}"
    report: dict[str, Any] = json.loads(report_file.read_text())
    if run.returncode != 0:
        report["ok"] = False
    return out, report, run.stderr


def _scenario(cache: Path, *extra: str) -> dict[str, Any]:
    """The scenario's report; fails with the steps that failed and where the screenshots are."""
    return _scenario_in(cache, *extra)[1]


def _scenario_in(cache: Path, *extra: str) -> tuple[Path, dict[str, Any]]:
    """The scenario's artefacts folder and report (see _scenario)."""
    out, report, _ = _drive(cache, *extra)
    failed = [s for s in report["steps"] if not s["ok"]]
    assert report["ok"], (
        f"steps failed: {json.dumps(failed, indent=1)}\nerrors: {report['errors']}\n"
        f"dialogs: {report.get('dialogs')}\nscreenshots: {out}"
    )
    return out, report


def _phase_1_result(before: str, rejected: int | None = None) -> str:
    """app/db.py after the demo's phase 1 edits, applied here in order; `rejected`: the index of
    the hunk of the first edit with several hunks that the user rejected (the rest accepted)."""
    from plangate.demo.script import STEPS
    from plangate.tools.hunks import compose, hunks

    text = before
    for turn in STEPS:
        for call in turn.tool_calls:
            if call.id.startswith("d-db"):
                assert text.count(call.input["old_string"]) == 1
                after = text.replace(call.input["old_string"], call.input["new_string"])
                found = hunks(text, after)
                if rejected is not None and len(found) >= 2:
                    after = compose(text, after, {h.index for h in found} - {rejected})
                    rejected = None
                text = after
    return text


def _check_phase_1(report: dict[str, Any]) -> None:
    from plangate.layout import document_name

    # The plan's tab is named for the task, not the session id.
    assert report["planTab"] == f"{document_name(report['task'])}.md", report["planTab"]
    installed = report["extensions"]
    assert any(e.startswith("plangate.plangate@") for e in installed), installed
    lenses = report["lenses"]
    assert lenses["plan"] == ["Approve plan", "Revise…", "Reject"]
    assert lenses["phase1"] == ["Approve & run", "Revise…", "Skip", "Reject"]
    rejected: int | None = None
    if report["review"] == "diff":
        # Each edit of phase 1 came as a diff of app/db.py with a lens on each hunk; no
        # workspace/applyEdit: the server wrote the file.
        reviews = report["reviews"]
        assert reviews, "no diff review opened"
        for review in reviews:
            assert "db.py" in review["tab"] and "(review)" in review["tab"], review
            assert any(t.startswith("Accept hunk 1/") for t in review["lenses"]), review
        assert report["applyEditResults"] == [], report["applyEditResults"]
        hunky = [r for r in reviews if r["rejected"] is not None]
        if hunky:
            [review] = hunky
            total = review["hunks"]
            assert f"Rejected hunk {total}/{total} · Undo" in review["afterReject"], review
            assert "Why? (optional: the agent reads it)" in review["reasonPrompt"], review
            rejected = review["rejected"]
        wanted = "diff-review-1"
    else:
        # Each edit of phase 1 came as a Refactor Preview of app/db.py, ticked and applied.
        assert report["previews"] >= 1, "no Refactor Preview opened"
        for n in range(1, report["previews"] + 1):
            preview = report[f"preview{n}"]
            assert "Refactor Preview" in preview["title"]
            assert preview["rows"][0].startswith("db.py"), preview["rows"]
        # Every preview was applied by the editor (none answered applied: false behind our back).
        assert report["applyEditResults"], "no workspace/applyEdit in the LSP trace"
        assert all(r["applied"] for r in report["applyEditResults"]), report["applyEditResults"]
        wanted = "refactor-preview-1"
    # The file on disk is exactly the demo's phase 1 (less a rejected hunk), and the lens says so.
    assert report["dbAfter"] == _phase_1_result(report["dbBefore"], rejected)
    # "done", or "done · 3 tests passed" since lenses show the last validation's counts.
    assert lenses["afterPhase1"][0].startswith("done"), lenses["afterPhase1"]
    assert lenses["afterPhase1"][1:] == ["Roll back"], lenses["afterPhase1"]
    assert report["dirtyTabs"] == [], "an applied file was left unsaved in the editor"
    # The activity view: the session waiting for phase 2, phase 1 done with its tests, and what
    # happened in phase 1 in words (the edits with how they ended, the validation).
    activity = report["activity"]
    # (innerText runs the label and its description together)
    assert activity["phase"].startswith("Phase 1: Databasedone · 3 passed"), activity
    rows = activity["rows"]
    assert any(r.startswith("edit app/db.py: ") for r in rows), rows
    assert any(r.startswith("validation 1: PASS ") for r in rows), rows
    shots = [Path(p).name for p in report["screenshots"]]
    for shot in ("plan-lenses", wanted, "phase-1-done", "activity-view"):
        assert any(shot in s for s in shots), shots


@pytest.mark.timeout(2400)
def test_vscode_proposes_approves_and_applies_phase_1(e2e_cache: Path, vsix: Path) -> None:
    """The phase's files are not open; each change is a diff, accepted from its title bar."""
    report = _scenario(e2e_cache, "--vsix", str(vsix), "--keep-file-closed")
    assert report["review"] == "diff"
    _check_phase_1(report)


@pytest.mark.timeout(2400)
def test_vscode_rejects_one_hunk_with_the_file_open_beside_the_plan(
    e2e_cache: Path, vsix: Path
) -> None:
    """app/db.py open beside the plan; in the first diff with two hunks the second is rejected
    from its lens (with a reason) and the first accepted: the file has just that."""
    report = _scenario(e2e_cache, "--vsix", str(vsix), "--reject-a-hunk")
    assert [r["rejected"] for r in report["reviews"] if r["rejected"] is not None] == [1]
    _check_phase_1(report)


@pytest.mark.timeout(2400)
def test_vscode_cancel_with_a_diff_open(e2e_cache: Path, vsix: Path) -> None:
    """Cancelling the session from the palette while a change waits in its diff closes the
    diff; the file is not touched."""
    report = _scenario(e2e_cache, "--vsix", str(vsix), "--keep-file-closed", "--cancel-in-review")
    cancelled = report["cancelInReview"]
    assert any(t.startswith("Accept hunk 1/") for t in cancelled["lenses"]), cancelled
    assert cancelled["dialog"].startswith("Cancel\nCancel Session\nCancel session "), cancelled
    assert "PlanGate: cancelled" in cancelled["statusAfter"], cancelled
    assert not any("(review)" in tab for tab in cancelled["tabs"]), cancelled["tabs"]
    assert cancelled["db"] == report["dbBefore"]


@pytest.mark.timeout(2400)
def test_vscode_ten_edits_in_a_row_to_one_open_file(e2e_cache: Path, vsix: Path) -> None:
    """Phase 1 edits app/db.py (open beside the plan) ten times in a row, each on the last
    one's text: ten diffs, each accepted, none refused as changed in the meantime."""
    report = _scenario(e2e_cache, "--vsix", str(vsix), "--script", "ten-edits")
    assert len(report["reviews"]) == 10, report["reviews"]
    notes = [f"# priority note {n}\n" for n in range(1, 11)]
    assert report["dbAfter"] == report["dbBefore"].replace(
        "import sqlite3\n", "import sqlite3\n" + "".join(notes)
    )
    assert report["dialogs"] == [] and report["applyEditResults"] == []
    assert report["lenses"]["afterPhase1"][0].startswith("done"), report["lenses"]


@pytest.mark.timeout(2400)
def test_vscode_failed_validation_answered_from_the_notification(
    e2e_cache: Path, vsix: Path
) -> None:
    """Phase 1 breaks a test and cannot fix it: the status bar says so in words, a
    notification offers the choices, and Accept Anyway from it finishes the phase."""
    report = _scenario(e2e_cache, "--vsix", str(vsix), "--script", "failing-check")
    decision = report["validationDecision"]
    assert decision["shown"]["buttons"][:4] == ["Retry", "Accept Anyway", "Roll Back", "Stop"]
    assert "fails validation" in decision["shown"]["message"], decision
    assert "phase 1: tests failing, decide" in decision["status"], decision
    assert "row_factory" not in report["dbAfter"]
    assert report["lenses"]["afterPhase1"][0].startswith("done"), report["lenses"]


@pytest.mark.timeout(2400)
def test_vscode_pause_and_resume_from_the_notification(e2e_cache: Path, vsix: Path) -> None:
    """The model's server stops as phase 1 starts: the session pauses, the notification and
    the status bar say why, and Resume from the notification (the server back) finishes it."""
    report = _scenario(e2e_cache, "--vsix", str(vsix), "--keep-file-closed", "--pause-and-resume")
    paused = report["paused"]
    assert paused["shown"]["buttons"][:2] == ["Resume", "Show Logs"], paused
    assert paused["shown"]["message"].startswith("PlanGate: paused: "), paused
    assert "paused: " in paused["status"], paused
    assert "paused" not in report["resumed"]["status"], report["resumed"]
    _check_phase_1(report)


PALETTE_COMMANDS = [
    "show-plan",
    "show-logs",
    "show-sessions",
    "roll-back-phase",
    "skip-phase",
    "set-api-key",
    "revise",
    "cancel-session",
    "approve-current-phase",
    "resume-session",
    "restart-server",
]


def _check_palette(out: Path, report: dict[str, Any]) -> None:
    """What each palette command showed (the driver's paletteCommands, in its order)."""
    palette = report["palette"]
    assert list(palette) == PALETTE_COMMANDS, list(palette)
    # Every command is tried even when one fails: name all that failed, with their screenshots.
    failed = {name: entry for name, entry in palette.items() if not entry["ok"]}
    assert not failed, f"palette commands failed: {json.dumps(failed, indent=1)}"
    for name, entry in palette.items():
        assert Path(entry["screenshot"]).is_file(), (name, entry["screenshot"])
    plan, session = report["planTab"].splitlines()[0].strip(), report["sessionId"]

    show_plan = palette["show-plan"]
    assert "db.py" in show_plan["activeBefore"] and plan in show_plan["activeAfter"], show_plan
    assert "PlanGate Server" in palette["show-logs"]["panel"]["chosen"], palette["show-logs"]
    sessions = palette["show-sessions"]
    assert sessions["prompt"] == "PlanGate: Sessions", sessions
    assert len(sessions["rows"]) == 1 and session in sessions["rows"][0], sessions["rows"]
    assert "approve phase 2" in sessions["rows"][0], sessions["rows"]
    assert plan in sessions["active"], sessions

    # Rolled back: the file is as it was before phase 1, the lens says so (with the phase's
    # last test counts) and offers no second roll back.
    rollback = palette["roll-back-phase"]
    assert any(row.startswith("Phase 1: Database") for row in rollback["rows"]), rollback
    assert "Roll back phase 1" in rollback["dialog"], rollback
    assert "app/db.py" in rollback["dialog"], rollback  # the files it undoes, named first
    assert rollback["restored"] is True
    # The rolled-back phase is next, to run again (or skip).
    assert rollback["phase1"] == ["Run again", "Revise…", "Skip", "Reject"], rollback["phase1"]

    # Skipped twice: phase 1 stays rolled back (with no second roll back), phase 2 is skipped,
    # and the session moves on to phase 3.
    skip = palette["skip-phase"]
    assert "approve phase 1" in skip["statusBefore"], skip
    assert "approve phase 2" in skip["statusBetween"], skip
    assert "approve phase 3" in skip["statusAfter"], skip
    assert skip["phase1"][0].startswith("rolled back"), skip
    assert "Roll back" not in skip["phase1"], skip
    assert skip["phase2"] == ["skipped"], skip
    assert skip["phase3"] == ["Approve & run", "Revise…", "Skip", "Reject"], skip

    key = palette["set-api-key"]
    assert key["type"] == "password", key
    assert key["notification"] == "PlanGate: API key saved; server restarted.", key
    # The restarted server found the session again, still waiting for phase 3.
    assert len(key["sessionsAfterRestart"]) == 1, key
    assert session in key["sessionsAfterRestart"][0], key
    assert "approve phase 3" in key["sessionsAfterRestart"][0], key
    # The key is in report.json (the driver made it up); no log or other artefact may hold it.
    fake = report["fakeKey"].encode()
    leaks = [
        str(f)
        for f in out.rglob("*")
        if f.is_file() and f.name != "report.json" and fake in f.read_bytes()
    ]
    assert not leaks, f"the API key is in {leaks}"

    # Revise… (answered by the restarted server) asks for a note in an input box; the session
    # goes back to the model, which (being the demo's script) proposes no new plan: it fails,
    # which the status bar and the title lens tell.
    revise = palette["revise"]
    assert revise["type"] == "text" and revise["prompt"].startswith("PlanGate: Revise"), revise
    assert "approve phase 3" in revise["statusBefore"], revise
    assert "approve phase 3" not in revise["statusAfter"], revise
    assert revise["title"][:3] == ["Approve plan", "Revise…", "Reject"], revise

    cancel = palette["cancel-session"]
    assert cancel["dialog"].startswith("Cancel\nCancel Session\nCancel session "), cancel
    assert "PlanGate: cancelled" in cancel["statusAfter"], cancel
    assert cancel["title"] == ["PlanGate: cancelled"], cancel

    # With nothing waiting and nothing paused, the palette hides what cannot apply.
    rows = palette["approve-current-phase"]["rows"]
    assert any("Show Sessions" in r for r in rows), rows
    assert not any("Approve Current Phase" in r or "Skip Phase" in r for r in rows), rows
    assert not any("Resume Session" in r for r in palette["resume-session"]["rows"]), palette

    restart = palette["restart-server"]
    assert restart["statusStarting"] == "PlanGate", restart  # the spinner: the server starting
    assert "PlanGate: cancelled" in restart["statusAfter"], restart
    assert any(session in row for row in restart["sessionsAfterRestart"]), restart


@pytest.mark.timeout(2400)
def test_vscode_refactor_preview_applied_with_nothing_ticked(e2e_cache: Path, vsix: Path) -> None:
    """The Refactor Preview fallback: Apply with every change unticked applies nothing, and
    the agent is told so (a rejection), never that the change was applied."""
    report = _scenario(e2e_cache, "--vsix", str(vsix), "--review", "preview", "--apply-nothing")
    nothing = report["nothingTicked"]
    assert nothing["answer"]["answer"]["choice"] == "reject", nothing
    assert "not applied" in nothing["answer"]["answer"]["feedback"], nothing
    assert nothing["db"] == report["dbBefore"], "app/db.py changed although nothing was ticked"


@pytest.mark.timeout(2400)
def test_vscode_palette_commands_after_phase_1(e2e_cache: Path, vsix: Path) -> None:
    """Every palette command, run from the command palette once phase 2 waits for approval."""
    out, report = _scenario_in(e2e_cache, "--vsix", str(vsix), "--palette", "--review", "preview")
    _check_phase_1(report)
    _check_palette(out, report)
