"""`plangate run` and `plangate resume` at a real pseudo-terminal: the prompts, the answers
typed at them, Ctrl-C, and the outcome in the workspace.

The scripted Messages API server runs in this process; the CLI runs as a child whose stdin,
stdout and stderr are the slave side of a pty (its controlling terminal, so Ctrl-C written to
the master becomes SIGINT). Every read is bounded by a deadline and the child is always killed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from plangate.model.scripted import Fault, ScriptedServer, ScriptedTurn, ToolUse
from tests.workflow.scenario import APP, Model, happy_path, make_workspace, plan_input, tool_results

ROOT = Path(__file__).resolve().parents[2]
TASK = "Fix add() in app.py"
ENV = {**os.environ, "ANTHROPIC_API_KEY": "offline-test", "NO_COLOR": "1", "TERM": "dumb"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")
# The options prompt, e.g. `  [a]pprove / [rev]ise / [rej]ect: `.
OPTIONS = r"^  (\[\w+\]\w*(?: / \[\w+\]\w*)*): "
FINAL = r"Session (\S+): (\w+)(?: \(([^\n]*)\))?\n"
FIXED = "def add(a, b):\n    return a + b\n"
FEEDBACK = "Please add input validation"


def _controlling_tty() -> None:
    """In the child, after setsid: make the pty (stdin) its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A child process on a pty, with a transcript (ANSI codes and `\\r` stripped)."""

    def __init__(self, argv: list[str]) -> None:
        master, slave = os.openpty()
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=ROOT,
                env=ENV,
                start_new_session=True,
                preexec_fn=_controlling_tty,
                close_fds=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.fd = master
        self.text = ""
        self.pos = 0  # where the next expect starts looking
        self.eof = False

    def _read(self, timeout: float) -> None:
        if self.eof:
            time.sleep(min(timeout, 0.05))
            return
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            self.eof = True
            return
        self.text += ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")

    def expect(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """The next match of `pattern` in the output, waiting at most `timeout` seconds."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.text, self.pos)
            if match:
                self.pos = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0 or (self.eof and self.proc.poll() is not None):
                why = "end of output" if left > 0 else f"{timeout:.0f} s"
                raise AssertionError(f"{why} without {pattern!r}; transcript:\n{self.text[-5000:]}")
            self._read(min(left, 0.2))

    def send(self, data: str | bytes) -> None:
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def answer(self, title: str, reply: str, feedback: str | None = None) -> None:
        """Wait for the question whose title contains `title`, then type `reply`."""
        self.expect(r"^\? [^\n]*" + re.escape(title))
        self.expect(OPTIONS)
        self.send(reply + "\n")
        if feedback is not None:
            self.expect(r"feedback for the agent \(optional\): ")
            self.send(feedback + "\n")

    def approve_rest(self, timeout: float = 30) -> re.Match[str]:
        """Approve/apply every further question (commands: once) until the final status."""
        regex = re.compile(OPTIONS + "|" + FINAL)
        for _ in range(100):  # a session asking forever must fail, not hang the suite
            match = self.expect(regex.pattern, timeout)
            if match.group(0).startswith("Session"):
                final = re.match(FINAL, match.group(0), re.MULTILINE)
                assert final is not None
                return final
            self.send("o\n" if "[o]nce" in match.group(1) else "a\n")
        raise AssertionError(f"still asking after 100 answers; transcript:\n{self.text[-5000:]}")

    def finish(self, timeout: float = 30) -> int:
        """Read to the end of the output; the exit status."""
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self._read(min(deadline - time.monotonic(), 0.2))
        left = max(0.1, deadline - time.monotonic())
        try:
            return self.proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"still running after {timeout:.0f} s; transcript:\n{self.text[-5000:]}"
            ) from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.fd)


@contextmanager
def terminal(argv: list[str]) -> Iterator[Terminal]:
    term = Terminal(argv)
    try:
        yield term
    finally:
        term.close()


def run_argv(ws: Path, server: ScriptedServer, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "plangate.cli",
        "run",
        "--workspace",
        str(ws),
        "--base-url",
        server.base_url,
        *extra,
        TASK,
    ]


def resume_argv(ws: Path, server: ScriptedServer, session_id: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "plangate.cli",
        "resume",
        session_id,
        "--workspace",
        str(ws),
        "--base-url",
        server.base_url,
    ]


def results_sent(server: ScriptedServer) -> list[str]:
    """Every tool result text the model was sent (the last request holds the whole history)."""
    return tool_results(server.message_requests[-1].body)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws")


# ---------------------------------------------------------------------------------- the tests


def test_approving_every_question_completes_the_task(ws: Path) -> None:
    with ScriptedServer(Model()) as server, terminal(run_argv(ws, server)) as term:
        term.answer("Approve the plan 'Fix add()'?", "a")
        term.answer("Start phase 1: API fix?", "a")
        term.expect(r"--- a/app.py\n\+\+\+ b/app.py\n")
        term.expect(r"\n-    return a - b\n\+    return a \+ b\n")
        term.answer("Apply the change to app.py?", "a")
        term.expect(r"applied app.py")
        term.answer("Allow `echo fixed >> CHANGES.txt`?", "o")
        term.answer("Run the check `python3 -m unittest -q check_app`?", "o")
        term.expect(r"PASS python3 -m unittest -q check_app")
        term.answer("Start phase 2: Documentation?", "approve")
        term.answer("Apply the change to docs/api.md", "apply")
        term.answer("Run the check `python3 -m unittest -q check_app`?", "once")
        final = term.expect(FINAL)
        term.expect(r"tokens: [\d,]+ in .*cost \$")
        assert term.finish() == 0
        bodies = [r.body for r in server.message_requests]
    assert final.group(2, 3) == ("completed", "every phase is done")
    assert "phase 1 API fix: done" in term.text and "phase 2 Documentation: done" in term.text
    assert "FAIL" not in term.text
    # The seed sets temperature: 0.2; the API would refuse it, so it is never sent. The seed's
    # retired claude-sonnet-4 runs as its successor, with the 1-hour cache for a person's waits.
    assert "ignored: the Messages API no longer accepts temperature" in term.text
    assert not any({"temperature", "top_p", "top_k"} & body.keys() for body in bodies)
    assert {body["model"] for body in bodies} == {"claude-sonnet-4-6"}
    assert bodies[-1]["messages"][-1]["content"][-1]["cache_control"]["ttl"] == "1h"
    assert not server.violations  # no request the real API rejects
    assert (ws / "app.py").read_text() == FIXED
    assert (ws / "CHANGES.txt").read_text() == "fixed\n"
    assert (ws / "docs" / "api.md").read_text().startswith("# API")


def test_revising_the_plan_sends_the_feedback_to_the_model(ws: Path) -> None:
    steps = happy_path()
    steps[2:2] = [
        ScriptedTurn(tool_calls=[ToolUse("propose_plan", plan_input("v2"), id="t-plan2")])
    ]
    with ScriptedServer(Model(steps)) as server, terminal(run_argv(ws, server)) as term:
        term.answer("Approve the plan 'Fix add()'?", "rev", feedback=FEEDBACK)
        term.answer("Approve the plan 'v2'?", "a")
        final = term.approve_rest()
        assert term.finish() == 0
    assert final.group(2) == "completed"
    revised = [t for t in results_sent(server) if "asks for changes to the plan" in t]
    assert revised and FEEDBACK in revised[0]
    # The feedback reached the model in the request that produced plan v2, and after it.
    assert sum(FEEDBACK in json.dumps(r.body["messages"]) for r in server.message_requests) >= 2
    assert (ws / "app.py").read_text() == FIXED
    assert (ws / "docs" / "api.md").exists()


def test_rejecting_the_plan_cancels_the_session(ws: Path) -> None:
    with ScriptedServer(Model()) as server, terminal(run_argv(ws, server)) as term:
        term.answer("Approve the plan 'Fix add()'?", "rej", feedback="Not needed after all")
        final = term.expect(FINAL)
        assert term.finish() == 1
    assert final.group(2, 3) == ("cancelled", "plan rejected: Not needed after all")
    assert "? Start phase" not in term.text
    assert (ws / "app.py").read_text() == APP
    assert not (ws / "CHANGES.txt").exists() and not (ws / "docs").exists()
    # Nothing more was asked of the model after the rejection.
    assert len(server.message_requests) == 2


def test_rejecting_an_edit_keeps_the_file_and_tells_the_model(ws: Path) -> None:
    # After the rejection the model ends the phase; validation then fails three times (app.py
    # still subtracts) and the user stops the session at the validation question.
    steps = [
        *happy_path()[:3],
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "left as is"}, id="t-c")]),
    ]
    reason = "Keep the subtraction; rename the function instead"
    with ScriptedServer(Model(steps)) as server, terminal(run_argv(ws, server)) as term:
        term.answer("Approve the plan 'Fix add()'?", "a")
        term.answer("Start phase 1: API fix?", "a")
        term.answer("Apply the change to app.py?", "rej", feedback=reason)
        term.expect(r"refused/failed: The user rejected the change to app.py")
        term.answer("Run the check `python3 -m unittest -q check_app`?", "s")  # for the session
        term.answer("Phase 1 still fails validation after 3 attempts.", "stop")
        final = term.expect(FINAL)
        assert term.finish() == 1
    assert final.group(2, 3) == ("failed", "validation failed in phase 1")
    assert "FAIL python3 -m unittest -q check_app" in term.text
    assert term.text.count("? Run the check") == 1  # `session` covered the later attempts
    assert (ws / "app.py").read_text() == APP
    rejected = [t for t in results_sent(server) if "rejected the change to app.py" in t]
    assert rejected == [f"The user rejected the change to app.py. {reason}"]


def test_denying_an_ask_command_does_not_run_it(ws: Path) -> None:
    with ScriptedServer(Model()) as server, terminal(run_argv(ws, server)) as term:
        term.answer("Approve the plan 'Fix add()'?", "a")
        term.answer("Start phase 1: API fix?", "a")
        term.answer("Apply the change to app.py?", "a")
        term.answer("Allow `echo fixed >> CHANGES.txt`?", "d")
        term.expect(r"refused/failed: The user did not approve the command")
        final = term.approve_rest()
        assert term.finish() == 0
    assert final.group(2) == "completed"
    assert not (ws / "CHANGES.txt").exists()
    assert (ws / "app.py").read_text() == FIXED
    assert any("did not approve the command" in t for t in results_sent(server))


def test_ctrl_c_at_a_prompt_pauses_and_resume_asks_again(ws: Path) -> None:
    with ScriptedServer(Model()) as server:
        with terminal(run_argv(ws, server)) as term:
            term.answer("Approve the plan 'Fix add()'?", "a")
            term.expect(r"\? Start phase 1: API fix\?")
            term.expect(OPTIONS)
            term.send(b"\x03")
            hint = term.expect(r"Continue with: plangate resume (\S+) --workspace (\S+)\n", 10)
            assert term.finish(10) == 0
        assert "paused" in term.text
        with terminal(resume_argv(ws, server, hint.group(1))) as again:
            again.answer("Start phase 1: API fix?", "a")
            final = again.approve_rest()
            assert again.finish() == 0
    assert "Approve the plan" not in again.text  # answered before the pause
    assert final.group(2) == "completed"
    assert (ws / "app.py").read_text() == FIXED
    assert (ws / "docs" / "api.md").exists()


class ServedOnce:
    """The scenario model, with each turn's faults injected only the first time it is served."""

    def __init__(self, steps: list[ScriptedTurn]) -> None:
        self.model = Model(steps)
        self.served: set[int] = set()

    def __call__(self, body: dict[str, object]) -> ScriptedTurn:
        turn = self.model(body)
        if id(turn) in self.served:
            return ScriptedTurn(turn.text, list(turn.tool_calls), turn.stop_reason)
        self.served.add(id(turn))
        return turn


def test_ctrl_c_during_a_model_turn_pauses_and_resume_completes(ws: Path) -> None:
    steps = happy_path()
    steps[2].text = "Fixing. " * 40  # streamed slowly: Ctrl-C arrives mid-turn
    steps[2].faults = [Fault("slow", delay=0.1)]
    with ScriptedServer(ServedOnce(steps)) as server:
        with terminal(run_argv(ws, server)) as term:
            session_id = term.expect(r"Session (\S+) in ").group(1)
            term.answer("Approve the plan 'Fix add()'?", "a")
            term.answer("Start phase 1: API fix?", "a")
            term.expect(r"Fixing\. Fixing\. ")
            term.send(b"\x03")
            hint = term.expect(r"Continue with: plangate resume (\S+) --workspace (\S+)\n", 15)
            assert term.finish(15) == 0
        assert hint.group(1) == session_id and hint.group(2) == str(ws.resolve())
        assert re.search(rf"Session {session_id}: paused \([^\n]*Ctrl-C", term.text)
        assert "? Apply the change" not in term.text
        assert (ws / "app.py").read_text() == APP
        with terminal(resume_argv(ws, server, session_id)) as again:
            again.answer("Apply the change to app.py?", "a")
            final = again.approve_rest()
            assert again.finish() == 0
    assert "Approve the plan" not in again.text and "Start phase 1" not in again.text
    assert final.group(1, 2) == (session_id, "completed")
    assert (ws / "app.py").read_text() == FIXED
    assert (ws / "docs" / "api.md").exists()


def test_approve_without_commands_still_asks_the_commands(ws: Path) -> None:
    with ScriptedServer(Model()) as server:
        argv = run_argv(ws, server, "--approve", "plan,phases,edits")
        with terminal(argv) as term:
            term.expect(r"\? Approve the plan 'Fix add\(\)'\?\n  -> approve \(--approve plan\)")
            term.expect(r"\? Start phase 1: API fix\?\n  -> approve \(--approve phases\)")
            term.expect(r"\? Apply the change to app.py\?\n  -> apply \(--approve edits\)")
            term.answer("Allow `echo fixed >> CHANGES.txt`?", "o")
            final = term.approve_rest()
            assert term.finish() == 0
    assert final.group(2) == "completed"
    # Only commands were asked: the first check, the echo, and the check of each phase.
    asked = re.findall(r"^\? ([^\n]*)\n" + OPTIONS, term.text, re.MULTILINE)
    assert [a[0].split("`")[0] for a in asked] == ["Allow ", "Run the check ", "Run the check "]
    assert (ws / "CHANGES.txt").read_text() == "fixed\n"
    assert (ws / "app.py").read_text() == FIXED


def test_approve_everything_runs_unattended_with_stdin_at_eof(ws: Path) -> None:
    with ScriptedServer(Model()) as server:
        argv = run_argv(ws, server, "--approve", "plan,phases,edits,commands")
        run = subprocess.run(
            argv,
            cwd=ROOT,
            env=ENV,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    out = run.stdout
    assert run.returncode == 0, out[-3000:] + run.stderr[-3000:]
    assert re.search(r"Session \S+: completed \(every phase is done\)", out)
    assert "-> once (--approve commands)" in out
    assert "no one at the terminal" not in out and "[o]nce" not in out and "[a]" not in out
    assert (ws / "app.py").read_text() == FIXED
    assert (ws / "CHANGES.txt").read_text() == "fixed\n"
    assert (ws / "docs" / "api.md").exists()


def test_ctrl_c_is_sigint_at_this_terminal() -> None:
    """The harness itself: `\\x03` written to the master interrupts the child."""
    code = (
        "import time\ntry:\n    print('READY', flush=True)\n    time.sleep(30)\n"
        "except KeyboardInterrupt:\n    print('INT')\n"
    )
    with terminal([sys.executable, "-c", code]) as term:
        term.expect(r"READY\n", 10)
        term.send(b"\x03")
        term.expect(r"INT\n", 10)
        assert term.finish(10) == 0
