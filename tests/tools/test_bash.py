"""The bash tool: permissions first, timeouts that kill the whole tree, capped output, sandbox."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from plangate.tools import ToolContext
from plangate.tools import sandbox as sandbox_module
from plangate.tools.bash import BashTool

from .conftest import Approver, run

BASH = BashTool()


def test_allowed_command_runs_and_streams(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "hello.txt").write_text("hello\n")
    seen: list[str] = []
    ctx.on_output = lambda _stream, text: seen.append(text)
    result = run(BASH.run({"command": "cat hello.txt && ls"}, ctx))
    assert not result.is_error, result.text
    assert "hello" in result.text and "[exit code 0]" in result.text
    assert "hello" in "".join(seen)
    assert result.data["exit_code"] == 0
    assert Path(result.data["output_file"]).read_text().startswith("hello")


def test_denied_command_never_runs(ctx: ToolContext, workspace: Path) -> None:
    approver = Approver(True)
    ctx.confirm = approver
    result = run(BASH.run({"command": "touch ran.txt && git push"}, ctx))
    assert result.is_error and "denied" in result.text and "git push" in result.text
    assert not (workspace / "ran.txt").exists()
    assert approver.asked == []  # deny is final: nobody is asked


def test_ask_goes_to_the_approver(ctx: ToolContext, workspace: Path) -> None:
    approver = Approver(False)
    ctx.confirm = approver
    result = run(BASH.run({"command": "touch made.txt"}, ctx))
    assert result.is_error and "did not approve" in result.text
    assert not (workspace / "made.txt").exists()
    assert approver.asked[0][0] == "touch made.txt"
    ctx.confirm = Approver(True)
    assert not run(BASH.run({"command": "touch made.txt"}, ctx)).is_error
    assert (workspace / "made.txt").exists()


def test_exit_code_and_workdir(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "sub").mkdir()
    result = run(BASH.run({"command": "pwd; exit 3", "workdir": "sub"}, ctx))
    assert result.is_error and "[exit code 3]" in result.text
    assert result.text.splitlines()[0].endswith("/sub")
    outside = run(BASH.run({"command": "pwd", "workdir": ".."}, ctx))
    assert outside.is_error and "inside the workspace" in outside.text


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox-if-present", "unsandboxed"])
def test_timeout_kills_grandchildren(
    ctx: ToolContext, workspace: Path, monkeypatch: pytest.MonkeyPatch, sandboxed: bool
) -> None:
    if not sandboxed:
        monkeypatch.setattr(sandbox_module, "bwrap_path", lambda: None)
    # A grandchild that writes a heartbeat; after the timeout the heartbeat must stop.
    command = "sh -c 'while true; do date +%s%N > beat; sleep 0.1; done' & sleep 300"
    started = time.monotonic()
    result = run(BASH.run({"command": command, "timeout": 2}, ctx))
    assert time.monotonic() - started < 20
    assert result.data["timed_out"] and "timed out after 2 s" in result.text
    beat = workspace / "beat"
    assert beat.exists()
    time.sleep(0.5)
    last = beat.read_text()
    time.sleep(1.0)
    assert beat.read_text() == last, "a grandchild is still running"


def test_output_caps_hold_on_100_mb(ctx: ToolContext) -> None:
    result = run(
        BASH.run({"command": "head -c 100000000 /dev/zero | tr '\\0' a; echo; echo END"}, ctx)
    )
    assert result.data["output_chars"] >= 100_000_000
    assert len(result.text) < 32_000
    assert "characters omitted" in result.text and "END" in result.text
    assert os.path.getsize(result.data["output_file"]) >= 100_000_000
    assert "which you can read" in result.text


def test_secrets_do_not_reach_commands(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    result = run(BASH.run({"command": "env"}, ctx))
    assert not result.is_error and "PATH=" in result.text  # the environment was printed
    assert "sk-ant-secret" not in result.text


def test_without_bwrap_the_result_says_unsandboxed(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "bwrap_path", lambda: None)
    result = run(BASH.run({"command": "echo hi"}, ctx))
    assert not result.data["sandboxed"]
    assert "without a sandbox" in result.text


class TestSandbox:
    """With bubblewrap, what static analysis cannot see still cannot write denied files."""

    def test_inline_python_cannot_write_env(
        self, bwrap: str, ctx: ToolContext, workspace: Path
    ) -> None:
        (workspace / ".env").write_text("SAFE=1\n")
        result = run(
            BASH.run({"command": 'python3 -c \'open(".env", "w").write("PWNED=1")\''}, ctx)
        )
        assert result.data["sandboxed"]
        assert "[PlanGate: discarded the command's change to .env: edit of `.env`" in result.text
        assert [item["path"] for item in result.data["discarded"]] == [".env"]
        assert (workspace / ".env").read_text() == "SAFE=1\n"

    def test_script_cannot_write_env_or_git_config(
        self, bwrap: str, ctx: ToolContext, workspace: Path
    ) -> None:
        (workspace / ".env").write_text("SAFE=1\n")
        (workspace / ".git").mkdir()
        (workspace / ".git" / "config").write_text("[core]\n")
        (workspace / "script.sh").write_text(
            "echo PWNED > .env\necho '[alias]' >> .git/config\nrm -f .env\necho done > ok.txt\n"
        )
        result = run(BASH.run({"command": "sh script.sh"}, ctx))
        assert result.data["sandboxed"]
        assert (workspace / ".env").read_text() == "SAFE=1\n"
        assert (workspace / ".git" / "config").read_text() == "[core]\n"
        assert (workspace / "ok.txt").read_text() == "done\n"  # the workspace stays writable

    def test_network_off_when_the_agent_says_so(
        self,
        bwrap: str,
        seed_agent,
        workspace: Path,  # type: ignore[no-untyped-def]
    ) -> None:
        agent = seed_agent.model_copy(update={"network": False})
        ctx = ToolContext.for_agent(agent, workspace, confirm=Approver(True))
        result = run(BASH.run({"command": "cat /proc/net/dev"}, ctx))
        interfaces = [
            line.split(":")[0].strip() for line in result.text.splitlines() if ":" in line
        ]
        assert interfaces == ["lo"], result.text

    def test_private_tmp_and_read_only_system(self, bwrap: str, ctx: ToolContext) -> None:
        marker = f"/tmp/plangate-sandbox-{os.getpid()}"
        result = run(BASH.run({"command": f"touch {marker} && ls {marker}; touch /usr/x"}, ctx))
        assert not os.path.exists(marker)
        assert "Read-only file system" in result.text
