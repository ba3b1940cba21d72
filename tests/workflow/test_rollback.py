"""Rollback undoes what the agent changed in a phase and nothing else: the user's own files and
edits stay, a moved branch or HEAD refuses it, and the rollback itself can be undone. Real
sessions (the scripted Messages API, the real SDK and tools) and real git."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

from plangate.agents import Agent
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from plangate.workflow.approvals import Answer, Question, ScriptedApprovals
from plangate.workflow.checkpoints import Checkpoints, PathChange
from plangate.workflow.phases import MAX_FIX_ATTEMPTS
from plangate.workflow.project import ProjectHead, project_head
from plangate.workflow.rollback import conflicts_with, net_changes
from plangate.workflow.session import Session
from plangate.workflow.state import PhaseStatus, SessionState, Status

from .scenario import APP, Model, happy_path, make_workspace, provider

FIXED = "def add(a, b):\n    return a + b\n"
README = "# Sample\n"


def _git(repo: Path, *args: str) -> str:
    """git on the project itself, away from the user's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, HOME=str(repo))
    config = ["-c", "user.name=T", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    done = subprocess.run(
        ["git", *config, *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _workspace(tmp_path: Path, *, git: bool = False) -> Path:
    workspace = make_workspace(tmp_path / "ws")
    (workspace / "README.md").write_text(README)
    if git:
        _git(workspace, "init", "-q")
        _git(workspace, "add", "-A")
        _git(workspace, "commit", "-q", "-m", "start")
    return workspace


def _run(
    agent: Agent,
    workspace: Path,
    approvals: ScriptedApprovals,
    command: str = "",
    steps: list[ScriptedTurn] | None = None,
) -> tuple[Session, SessionState]:
    """The happy path's session (or `steps`): phase 1 edits app.py and creates CHANGES.txt by
    a command (or runs `command`); then the scripted answers decide."""
    steps = steps or happy_path()
    if command:
        steps[3] = ScriptedTurn(tool_calls=[ToolUse("bash", {"command": command}, id="t-log")])
    with ScriptedServer(Model(steps)) as server:
        session = Session.start(
            agent, workspace, "Fix add() in app.py", provider(server.base_url), approvals
        )
        return session, asyncio.run(session.run())


def _events(session: Session, kind: str) -> list[dict[str, Any]]:
    """The data of the session's logged events of `kind`."""
    return [e.model_dump()["data"] for e in session.log.read() if e.event.type == kind]


def _at_first(kind: str, act: Any) -> Any:
    """A `decide` for ScriptedApprovals that does `act` (what the user does meanwhile) at the
    first question of `kind`, and leaves the answer to the scripted ones."""
    done: list[bool] = []

    def decide(question: Question) -> Answer | None:
        if question.kind == kind and not done:
            done.append(True)
            act(question)
        return None

    return decide


def _at_phase(index: int, act: Any) -> Any:
    """Does `act` once, at the first question about phase `index`."""
    done: list[bool] = []

    def decide(question: Question) -> Answer | None:
        if question.kind == "phase" and question.phase_index == index and not done:
            done.append(True)
            act(question)
        return None

    return decide


def test_rollback_undoes_the_agents_changes_and_keeps_the_users(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path)

    def meanwhile(_question: Question) -> None:
        # During phase 1, before the agent's edit is applied: the user's own work.
        (workspace / "notes.txt").write_text("mine\n")
        (workspace / "README.md").write_text(README + "\nEdited by the user.\n")

    answers = ScriptedApprovals(
        {"phase": ["approve", "rollback", "skip", "skip"]}, decide=_at_first("edit", meanwhile)
    )
    session, state = _run(seed_agent, workspace, answers)

    assert state.status is Status.COMPLETED, state.reason
    assert state.phases[1] is PhaseStatus.ROLLED_BACK
    assert (workspace / "app.py").read_text() == APP  # the agent's edit, undone
    assert not (workspace / "CHANGES.txt").exists()  # the agent's command created it
    assert (workspace / "notes.txt").read_text() == "mine\n"  # the user created it
    assert (workspace / "README.md").read_text() == README + "\nEdited by the user.\n"
    [rollback] = _events(session, "rollback")
    assert rollback["paths"] == ["CHANGES.txt", "app.py"]
    # What the agent changed is in the log, so a restart knows it too.
    recorded = {c["path"] for e in _events(session, "agent_changed") for c in e["changes"]}
    assert recorded == {"app.py", "CHANGES.txt"}
    reopened = Session.open(seed_agent, workspace, state.id, session.provider, answers)
    assert reopened.state.model_dump() == state.model_dump()


def test_a_file_the_user_creates_while_a_command_waits_for_approval_is_not_the_agents(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path)
    # The agent's command is asked about; the user writes a file before answering. Only
    # what the command does once it runs is the agent's.
    answers = ScriptedApprovals(
        {"phase": ["approve", "rollback", "skip", "skip"]},
        decide=_at_first("permission", lambda _q: (workspace / "todo.txt").write_text("t\n")),
    )
    session, state = _run(seed_agent, workspace, answers)
    assert state.phases[1] is PhaseStatus.ROLLED_BACK
    assert (workspace / "todo.txt").read_text() == "t\n"
    assert not (workspace / "CHANGES.txt").exists()
    [rollback] = _events(session, "rollback")
    assert rollback["paths"] == ["CHANGES.txt", "app.py"]


def test_rollback_is_refused_after_a_branch_switch(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, git=True)

    def switch(question: Question) -> None:
        # Phase 1 is done; before rolling it back the user moves to another branch with
        # other work, and leaves an untracked file about.
        assert question.phase_index == 2
        _git(workspace, "checkout", "-q", "-b", "other")
        (workspace / "other.txt").write_text("other branch\n")
        _git(workspace, "add", "other.txt")
        _git(workspace, "commit", "-q", "-m", "other work")
        (workspace / "scratch.txt").write_text("untracked\n")

    answers = ScriptedApprovals(
        {"phase": ["approve", "rollback", "skip"]}, decide=_at_phase(2, switch)
    )
    session, state = _run(seed_agent, workspace, answers)

    # Refused, and nothing was written or deleted; the session went on.
    assert state.status is Status.COMPLETED, state.reason
    assert state.phases[1] is PhaseStatus.DONE
    assert _events(session, "rollback") == []
    [refused] = _events(session, "rollback_refused")
    assert refused["paths"] == ["CHANGES.txt", "app.py"]
    assert "branch main" in refused["message"] and "branch other" in refused["message"]
    assert "app.py" in refused["message"] and "Nothing was changed" in refused["message"]
    assert (workspace / "app.py").read_text() == FIXED
    assert (workspace / "CHANGES.txt").read_text() == "fixed\n"
    assert (workspace / "scratch.txt").read_text() == "untracked\n"
    assert (workspace / "other.txt").read_text() == "other branch\n"
    assert _git(workspace, "branch", "--show-current").strip() == "other"


def test_rollback_is_refused_when_the_user_changed_a_file_the_agent_changed(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path)
    edited = FIXED + "\n\ndef sub(a, b):\n    return a - b\n"

    def edit(_question: Question) -> None:
        (workspace / "app.py").write_text(edited)

    answers = ScriptedApprovals(
        {"phase": ["approve", "rollback", "skip"]}, decide=_at_phase(2, edit)
    )
    session, state = _run(seed_agent, workspace, answers)

    assert state.status is Status.COMPLETED and state.phases[1] is PhaseStatus.DONE
    [refused] = _events(session, "rollback_refused")
    assert refused["paths"] == ["app.py"]
    assert "app.py (changed since the agent left it)" in refused["message"]
    assert (workspace / "app.py").read_text() == edited
    assert (workspace / "CHANGES.txt").read_text() == "fixed\n"  # refused: nothing at all


def test_a_rollback_is_snapshotted_first_and_can_be_undone(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path, git=True)
    (workspace / "old notes.txt").write_text("obsolete\n")
    answers = ScriptedApprovals({"phase": ["approve", "rollback", "skip", "skip"]})
    command = "echo fixed >> CHANGES.txt && rm 'old notes.txt'"
    session, state = _run(seed_agent, workspace, answers, command)
    assert (workspace / "app.py").read_text() == APP
    assert (workspace / "old notes.txt").read_text() == "obsolete\n"  # the agent deleted it
    [rollback] = _events(session, "rollback")
    undo = rollback["undo"]
    labels = dict(Checkpoints(workspace).list())
    assert labels[undo].strip() == "before rolling back phase 1"
    assert undo in rollback["message"] and rollback["undo_command"] in rollback["message"]
    # The user is told how; the model too.
    told = [m for m in state.messages if m["role"] == "user" and "rolled back" in str(m)]
    assert told and rollback["undo_command"] in str(told[-1])

    # After the rollback the user writes a file of their own; then undoes the rollback with
    # the command given, exactly as written, with real git.
    (workspace / "later.txt").write_text("kept\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, HOME=str(tmp_path))
    subprocess.run(["sh", "-c", rollback["undo_command"]], cwd=workspace, env=env, check=True)
    assert (workspace / "app.py").read_text() == FIXED
    assert (workspace / "CHANGES.txt").read_text() == "fixed\n"
    assert (workspace / "later.txt").read_text() == "kept\n"
    assert not (workspace / "old notes.txt").exists()
    assert (workspace / "README.md").read_text() == README
    # The project's repository was only read: still on main, nothing staged.
    assert _git(workspace, "branch", "--show-current").strip() == "main"
    assert _git(workspace, "diff", "--cached", "--name-only") == ""


def test_a_refused_rollback_during_validation_lets_the_user_choose_again(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path)
    (workspace / ".plangate" / "config.toml").write_text('validate = ["false"]\n')
    read, plan, edit, *_ = happy_path()
    steps = [
        read,
        plan,
        edit,
        *(
            ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "x"}, id=f"t-d{i}")])
            for i in range(MAX_FIX_ATTEMPTS)
        ),
    ]
    seen: list[str] = []

    def decide(question: Question) -> Answer | None:
        if question.kind != "validation":
            return None
        seen.append(question.id)
        if len(seen) == 1:  # the user changed the agent's file, then asks for a rollback
            (workspace / "app.py").write_text("# the user's own version\n")
            return Answer(choice="rollback")
        return Answer(choice="accept")

    answers = ScriptedApprovals({"phase": ["approve", "skip"]}, decide=decide)
    with ScriptedServer(Model(steps)) as server:
        session = Session.start(seed_agent, workspace, "Fix", provider(server.base_url), answers)
        state = asyncio.run(session.run())
    assert seen == ["validation:1#1", "validation:1#2"]  # refused, then asked again
    assert [e["paths"] for e in _events(session, "rollback_refused")] == [["app.py"]]
    assert (workspace / "app.py").read_text() == "# the user's own version\n"
    assert state.status is Status.COMPLETED, state.reason
    assert state.phases[1] is PhaseStatus.DONE


# ---------------------------------------------------------------- the parts


def test_project_head_reads_branch_and_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    assert project_head(repo) is None  # not a repository
    _git(repo, "init", "-q")
    assert project_head(repo) == ProjectHead(commit="", branch="main")  # no commit yet
    (repo / "a.txt").write_text("a\n")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-q", "-m", "a")
    commit = _git(repo, "rev-parse", "HEAD").strip()
    assert project_head(repo) == ProjectHead(commit=commit, branch="main")
    (repo / "sub").mkdir()
    assert project_head(repo / "sub") == ProjectHead(commit=commit, branch="main")
    _git(repo, "checkout", "-q", "--detach")
    assert project_head(repo) == ProjectHead(commit=commit, branch="")
    before = sorted(p.name for p in (repo / ".git").iterdir())
    project_head(repo)
    assert sorted(p.name for p in (repo / ".git").iterdir()) == before


def test_changes_between_two_trees_hash_files_and_links(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "kept.txt").write_text("same\n")
    (ws / "gone.txt").write_text("bye\n")
    (ws / "mod.bin").write_bytes(b"\x00\x01")
    cp = Checkpoints(ws)
    before = cp.tree()
    (ws / "gone.txt").unlink()
    (ws / "mod.bin").write_bytes(b"\x00\x02" * 100_000)
    (ws / "new dir").mkdir()
    (ws / "new dir" / "n.txt").write_text("new\n")
    (ws / "link").symlink_to("kept.txt")
    after = cp.tree()

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    assert sorted(cp.changes(before, after), key=lambda c: c.path) == [
        PathChange(path="gone.txt", before=sha(b"bye\n"), after=None),
        PathChange(path="link", before=None, after=sha(b"kept.txt")),
        PathChange(path="mod.bin", before=sha(b"\x00\x01"), after=sha(b"\x00\x02" * 100_000)),
        PathChange(path="new dir/n.txt", before=None, after=sha(b"new\n")),
    ]


def test_net_changes_and_conflicts() -> None:
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    net, broken = net_changes(
        [
            PathChange(path="edited", before=a, after=b),
            PathChange(path="edited", before=b, after=c),
            PathChange(path="temp", before=None, after=a),
            PathChange(path="temp", before=a, after=None),  # created and removed: nothing
            PathChange(path="mixed", before=a, after=b),
            PathChange(path="mixed", before=c, after=a),  # someone changed it in between
        ]
    )
    assert net == {"edited": PathChange(path="edited", before=a, after=c)}
    assert [x.path for x in broken] == ["mixed"]
    assert conflicts_with(net, {"edited": a}, {"edited": c}) == []
    [moved] = conflicts_with(net, {"edited": a}, {"edited": b})
    assert moved.why == "changed since the agent left it"
    [early] = conflicts_with(net, {"edited": b}, {"edited": c})
    assert early.why == "changed in this phase before the agent changed it"
    [unknown] = conflicts_with(net, {"edited": None}, {"edited": c})
    assert unknown.why.startswith("not in the checkpoint: made by someone else")


def test_a_rolled_back_phase_can_be_run_again(seed_agent: Agent, tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    steps = happy_path()
    # Phase 1's turns (read, edit, command, complete) once more, for the run after the
    # rollback: the file changed since the agent read it, so it reads it again.
    again = [
        ScriptedTurn(
            text=turn.text,
            tool_calls=[ToolUse(c.name, dict(c.input), id=c.id + "-2") for c in turn.tool_calls],
        )
        for turn in [steps[0], *steps[2:5]]
    ]
    steps[5:5] = again
    # Phase 2 is asked, the user rolls phase 1 back instead; phase 1 is asked again, is run,
    # then phase 2.
    answers = ScriptedApprovals({"phase": ["approve", "rollback", "approve", "approve"]})
    session, state = _run(seed_agent, workspace, answers, steps=steps)

    assert state.status is Status.COMPLETED, state.reason
    phase_questions = [q.title for q in answers.asked if q.kind == "phase"]
    assert phase_questions == [
        "Start phase 1: API fix?",
        "Start phase 2: Documentation?",
        "Run phase 1 again: API fix?",
        "Start phase 2: Documentation?",
    ], phase_questions
    assert state.phases == {1: PhaseStatus.DONE, 2: PhaseStatus.DONE}
    assert (workspace / "app.py").read_text().endswith("a + b\n")
    assert (workspace / "CHANGES.txt").read_text() == "fixed\n"  # once: the first was undone
    assert len(_events(session, "rollback")) == 1


def test_rolling_back_after_the_last_phase_reopens_the_session(
    seed_agent: Agent, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path)
    session, state = _run(seed_agent, workspace, ScriptedApprovals())
    assert state.status is Status.COMPLETED
    session.rollback(2)
    assert session.state.status is Status.AWAITING_PHASE and session.state.phase == 2
    assert not (workspace / "docs" / "api.md").exists()
    # Skipped now: the session is done again, phase 2 stays rolled back.
    session.approvals = ScriptedApprovals({"phase": ["skip"]})
    state = asyncio.run(session.run())
    assert state.status is Status.COMPLETED
    assert state.phases[2] is PhaseStatus.ROLLED_BACK
