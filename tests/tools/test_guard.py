"""The exec-time guard, through the real bash tool and real bubblewrap: `git push` spelled so the
static check cannot see it still stops at the exec, and the remote gets nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plangate.agents import Agent
from plangate.permissions import Action, Decision, Policy, Rule
from plangate.tools import ToolContext
from plangate.tools import guard as guard_module
from plangate.tools.bash import BashTool
from plangate.tools.guard import guarded_programs, runtime_verdict, shadows
from plangate.tools.guard_entry import MESSAGE_PREFIX, ask, words_for

from .conftest import Approver, run

BASH = BashTool()
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


class StaticMiss(Policy):
    """The seed policy, except that the static check allows the one command line under test:
    as if its spelling got past the static engine. Everything the guard asks goes to the real
    policy, so what stops the command is the exec-time layer alone."""

    missed = ""

    def check_bash(self, command: str, cwd: str | None = None) -> Decision:
        """Allow `missed`, decide everything else as the seed policy does."""
        if command == self.missed:
            return Decision(action=Action.ALLOW, rule=None, reason="missed by the static check")
        return super().check_bash(command, cwd)


@pytest.fixture(params=["compiled", "python"], autouse=True)
def guard_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with both guards: the compiled one, and the Python stubs used where
    there is no C compiler."""
    if request.param == "python":
        monkeypatch.setattr(guard_module, "compiled_guard", lambda: None)
    elif guard_module.compiled_guard() is None:
        pytest.skip("no C compiler here: only the Python guard can be tested")
    return str(request.param)


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env
    )
    return done.stdout


@pytest.fixture
def repo(workspace: Path, bwrap: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository in the workspace with one commit and a file remote beside it (inside
    the workspace, so the sandbox could write it: only the guard stands in the way)."""
    subprocess.run(["git", "init", "-q", "--bare", "remote.git"], cwd=workspace, check=True)
    repo = workspace / "repo"
    repo.mkdir()
    _git("init", "-q", "-b", "main", cwd=repo)
    (repo / "a.txt").write_text("a\n")
    _git("add", "a.txt", cwd=repo)
    _git("commit", "-q", "-m", "first", cwd=repo)
    _git("remote", "add", "origin", "../remote.git", cwd=repo)
    (repo / "push.sh").write_text("#!/bin/sh\ngit push origin main\n")
    (repo / "push.sh").chmod(0o755)
    (repo / "push.py").write_text(
        "import subprocess\nsubprocess.run(['git', 'push', 'origin', 'main'], check=False)\n"
    )
    for name, value in GIT_ENV.items():  # the bash tool passes the server's environment on
        monkeypatch.setenv(name, value)
    return repo


def _remote_has_main(workspace: Path) -> bool:
    done = subprocess.run(
        ["git", "--git-dir", str(workspace / "remote.git"), "rev-parse", "--verify", "-q", "main"],
        capture_output=True,
    )
    return done.returncode == 0


def _ctx(policy: Policy, workspace: Path) -> ToolContext:
    # Every question is approved: only a deny, static or at exec time, stops a command.
    return ToolContext(workspace=workspace, policy=policy, confirm=Approver(True))


SPELLINGS = [
    'eval "git pu""sh origin main"',
    "x='git push origin main'; $x",
    'python3 -c \'import subprocess; subprocess.run(["git","push","origin","main"])\'',
    "./push.sh",
    "python3 push.py",  # the runtime hole: an approved script that pushes
    "/usr/bin/git push origin main",
    "env PATH=/usr/bin git push origin main",
    "shopt -s expand_aliases; alias g='git push'; eval 'g origin main'",
    "/usr/lib/git-core/git-push origin main",
    "x='a[$(git push origin main)]'; declare -A arr=(); arr[x]=1; declare -a b; b[x]=1",
    # The program's stderr goes nowhere: the tool's result still says what was refused.
    'python3 -c \'import subprocess; subprocess.run(["git","push","origin","main"], '
    "capture_output=True)'",
    "git push origin main 2>/dev/null",
    # A copy of /usr/bin/git inside the sandbox is a copy of the stub: still guarded.
    "cp /usr/bin/git ./g && ./g push origin main",
    "(exec -a foo git push origin main)",
    "command -p git push origin main",
    "find . -maxdepth 0 -exec git push origin main ';'",
    "echo main | xargs git push origin",
    # An argv longer than one read of the socket: decided whole, never on its start.
    "git -c core.x=$(head -c 90000 /dev/zero | tr '\\0' a) push origin main",
    # Longer than the engine reads: refused, not asked (nobody could answer).
    "git -c core.x=$(head -c 120000 /dev/zero | tr '\\0' a) push origin main",
]


@pytest.mark.parametrize("command", SPELLINGS)
def test_push_stops_at_exec(
    command: str, seed_agent: Agent, workspace: Path, repo: Path, guard_kind: str
) -> None:
    policy = StaticMiss(seed_agent.permission, workspace)
    policy.missed = command
    result = run(BASH.run({"command": command, "workdir": "repo"}, _ctx(policy, workspace)))
    assert result.data.get("sandboxed"), result.text
    assert MESSAGE_PREFIX in result.text, result.text
    assert not _remote_has_main(workspace), "the push reached the remote"
    if "./g push" in command and guard_kind == "compiled":
        # The compiled guard knows itself by the path it is mounted at: a copy runs nothing.
        assert "a copy of a guarded program does not run" in result.text
        return
    assert result.data["refused_at_run_time"], result.data
    if "120000" in command:
        assert "is over 100,000 characters" in result.text
        return
    assert "git push" in result.text and "deny" in result.text


@pytest.mark.parametrize("command", SPELLINGS)
def test_push_stops_with_both_layers(
    command: str, seed_agent: Agent, workspace: Path, repo: Path
) -> None:
    """The seed policy as it is, every question approved: whichever layer stops the push (the
    static check up front, or the guard), the remote gets nothing and the model is told."""
    ctx = _ctx(Policy(seed_agent.permission, workspace), workspace)
    result = run(BASH.run({"command": command, "workdir": "repo"}, ctx))
    assert "denied" in result.text, result.text  # python3 -c ignores the exit status
    assert not _remote_has_main(workspace), "the push reached the remote"


def test_same_push_runs_when_the_rules_allow_it(
    seed_agent: Agent, workspace: Path, repo: Path
) -> None:
    """The control: with `git push` allowed (git still guarded, for `git commit`), the same
    sandbox does push. So the test above sees the guard, not a read-only remote."""
    rules = dict(seed_agent.permission)
    rules["bash"] = [r for r in rules["bash"] if r.pattern != "git push"] + [
        Rule(permission="bash", pattern="git push", action=Action.ALLOW)
    ]
    policy = Policy(rules, workspace)
    assert "git" in guarded_programs(policy)
    result = run(
        BASH.run({"command": "git push -q origin main", "workdir": "repo"}, _ctx(policy, workspace))
    )
    assert not result.is_error, result.text
    assert _remote_has_main(workspace)


def test_benign_git_runs_through_the_guard(seed_agent: Agent, workspace: Path, repo: Path) -> None:
    ctx = _ctx(Policy(seed_agent.permission, workspace), workspace)
    command = (
        "cmp -s /usr/bin/git /tmp/.plangate-real/usr/bin/git || echo shadowed; "
        "git status --short; git log --oneline"
    )
    result = run(BASH.run({"command": command, "workdir": "repo"}, ctx))
    assert not result.is_error, result.text
    assert result.text.startswith("shadowed"), "git is not shadowed by the guard"
    assert "first" in result.text and MESSAGE_PREFIX not in result.text
    assert result.data["refused_at_run_time"] == []


def test_no_answer_is_a_refusal(tmp_path: Path) -> None:
    verdict, why = ask(str(tmp_path / "no-such-socket"), "/", ["git", "status"])
    assert verdict == "deny" and "could not reach PlanGate" in why


def test_guarded_programs_come_from_the_rules(seed_agent: Agent, workspace: Path) -> None:
    names = guarded_programs(Policy(seed_agent.permission, workspace))
    assert names == ["rm", "git", "npm", "docker"]
    rules = {"bash": [Rule(permission="bash", pattern="terraform apply", action=Action.DENY)]}
    assert guarded_programs(Policy(rules, workspace)) == ["terraform"]
    allow_only = {"bash": [Rule(permission="bash", pattern="ls *", action=Action.ALLOW)]}
    assert guarded_programs(Policy(allow_only, workspace)) == []


def test_every_way_to_git_is_shadowed() -> None:
    paths = {s.path for s in shadows(["git"], "/usr/bin:/bin")}
    assert "/usr/bin/git" in paths
    if Path("/usr/lib/git-core/git").exists():
        assert "/usr/lib/git-core/git" in paths


def test_runtime_verdicts(seed_agent: Agent, workspace: Path) -> None:
    policy = Policy(seed_agent.permission, workspace)
    assert runtime_verdict(policy, ["git", "push", "origin", "main"], None, frozenset())
    assert runtime_verdict(policy, ["git", "status"], None, frozenset()) is None
    # A built-in question (no rule names `git fetch`) does not stop a build's own git.
    assert runtime_verdict(policy, ["git", "fetch"], None, frozenset()) is None
    ask = Rule(permission="bash", pattern="git fetch", action=Action.ASK)
    asking = Policy({"bash": [ask]}, workspace)
    refused = runtime_verdict(asking, ["git", "fetch"], None, frozenset())
    assert refused is not None and "as its own bash command" in refused
    assert runtime_verdict(asking, ["git", "fetch"], None, frozenset({ask})) is None


def test_multi_call_names() -> None:
    assert words_for("git", ["/usr/lib/git-core/git-push", "origin"]) == ["git", "push", "origin"]
    assert words_for("git", ["/usr/bin/git", "status"]) == ["git", "status"]


def test_an_ask_rule_runs_only_under_its_own_approval(
    seed_agent: Agent, workspace: Path, repo: Path
) -> None:
    """`git push: ask`. A script approved as a whole did not show the user its push: refused at
    the exec, with what to do. The push approved as itself runs, guard and all."""
    rules = dict(seed_agent.permission)
    rules["bash"] = [r for r in rules["bash"] if r.pattern != "git push"] + [
        Rule(permission="bash", pattern="git push", action=Action.ASK)
    ]
    ctx = _ctx(Policy(rules, workspace), workspace)
    hidden = run(BASH.run({"command": "./push.sh", "workdir": "repo"}, ctx))
    assert MESSAGE_PREFIX in hidden.text and "as its own bash command" in hidden.text
    assert not _remote_has_main(workspace)
    shown = run(BASH.run({"command": "git push -q origin main", "workdir": "repo"}, ctx))
    assert not shown.is_error, shown.text
    assert _remote_has_main(workspace)


def test_the_guards_own_python_can_be_guarded(
    seed_agent: Agent, workspace: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule naming the very interpreter the stubs run on: the stubs use a private copy of
    it, so git's guard and Python itself still work, and the denied use is refused."""
    python = os.path.realpath(sys.executable)
    monkeypatch.setenv("PATH", f"{os.path.dirname(python)}:{os.environ['PATH']}")
    name = os.path.basename(python)
    rules = dict(seed_agent.permission)
    deny = Rule(permission="bash", pattern=f"{name} -m http.server", action=Action.DENY)
    rules["bash"] = [*rules["bash"], deny]
    policy = StaticMiss(rules, workspace)
    assert name in guarded_programs(policy) and python in {s.path for s in shadows([name])}
    policy.missed = f"{name} -c 'print(6 * 7)'; git log --oneline; eval '{name} -m http.server'"
    result = run(BASH.run({"command": policy.missed, "workdir": "repo"}, _ctx(policy, workspace)))
    assert "42" in result.text and "first" in result.text, result.text
    assert MESSAGE_PREFIX in result.text and "http.server" in result.text


def test_a_vanished_compiled_guard_is_built_again(
    seed_agent: Agent, workspace: Path, repo: Path, guard_kind: str
) -> None:
    if guard_kind != "compiled":
        pytest.skip("the compiled guard only")
    binary = guard_module.compiled_guard()
    assert binary is not None
    os.unlink(binary)  # a /tmp cleaner under a long-running server
    ctx = _ctx(Policy(seed_agent.permission, workspace), workspace)
    result = run(BASH.run({"command": "git log --oneline", "workdir": "repo"}, ctx))
    assert not result.is_error and "first" in result.text, result.text
    assert guard_module.compiled_guard() != binary or os.path.exists(binary)


def test_hard_links_of_a_guarded_program_are_shadowed(tmp_path: Path) -> None:
    """`git-push` as a hard link of git (older packages) is git, reached by another name."""
    real = tmp_path / "git"
    shutil.copy("/bin/true", real)
    os.link(real, tmp_path / "git-push")
    (tmp_path / "git-other").write_bytes(b"#!/bin/sh\n")
    (tmp_path / "git-other").chmod(0o755)
    paths = {s.path for s in shadows(["git"], str(tmp_path))}
    assert {str(real), str(tmp_path / "git-push")} <= paths
    assert str(tmp_path / "git-other") not in paths
