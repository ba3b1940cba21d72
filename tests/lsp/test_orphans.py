"""kill -9 `plangate serve` while a phase's check runs: the check and its background jobs die
with the server, and the next server, asked for its sessions, tells the editor what was
interrupted (an output line and a warning) and runs the check again.

The client is a bare JSON-RPC one over the server's stdio: pytest-lsp's fixture owns one
server for a whole test and shuts it down politely, and this test kills one and starts another.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any

import pytest

from plangate.model.scripted import ScriptedServer
from plangate.workflow import prompts
from tests.orphans import GONE, START, kill_all, named, sleeper, wait_for
from tests.workflow.scenario import Model, make_workspace

QUICK_CHECK = "python3 -m unittest -q check_app"
TIMEOUT = 60.0  # seconds for any answer or state the test waits for


class Editor:
    """`plangate serve` and a client that says yes: the first action of every message request,
    every edit applied, every document shown. It keeps the notifications it receives."""

    def __init__(self, workspace: Path, base_url: str, log: Path) -> None:
        self.stderr = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "plangate.cli", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.notifications: list[dict[str, Any]] = []
        self._responses: dict[int, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._write = threading.Lock()
        self._ids = itertools.count(1)
        threading.Thread(target=self._read, daemon=True).start()
        folder = {"uri": workspace.as_uri(), "name": "ws"}
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": workspace.as_uri(),
                "workspaceFolders": [folder],
                "capabilities": {},
                "initializationOptions": {
                    "anthropicApiKey": "sk-ant-offline-test-key-0123456789",
                    "anthropicBaseUrl": base_url,
                },
            },
        )
        self._send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        """Send a request; its result (bounded in time)."""
        number = next(self._ids)
        self._send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        with self._changed:
            answered = self._changed.wait_for(lambda: number in self._responses, TIMEOUT)
            assert answered, f"no answer to {method} in {TIMEOUT} s"
            response = self._responses.pop(number)
        assert "error" not in response, response["error"]
        return response["result"]

    def until(self, session_id: str, holds: Any) -> dict[str, Any]:
        """Poll sessionStatus until `holds(summary)` (bounded in time)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            summary: dict[str, Any] = self.request(
                "plangate/sessionStatus", {"sessionId": session_id}
            )
            if holds(summary):
                return summary
            assert time.monotonic() < deadline, f"timed out; last status {summary}"
            time.sleep(0.1)

    def kinds(self, method: str) -> list[dict[str, Any]]:
        """The params of the notifications of `method` received so far."""
        with self._changed:
            return [n["params"] for n in self.notifications if n["method"] == method]

    def close(self) -> None:
        """Shut the server down (kill it if it does not go)."""
        if self.process.poll() is None:
            with contextlib.suppress(AssertionError, OSError):
                self.request("shutdown", {})
                self._send({"jsonrpc": "2.0", "method": "exit"})
            try:
                self.process.wait(timeout=GONE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=GONE)
        self.stderr.close()

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        stdin = self.process.stdin
        assert stdin is not None
        with self._write:
            stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            stdin.flush()

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while (message := _message(stdout)) is not None:
            if "method" in message and "id" in message:
                with contextlib.suppress(OSError):
                    self._send({"jsonrpc": "2.0", "id": message["id"], "result": _yes(message)})
                continue
            with self._changed:
                if "method" in message:
                    self.notifications.append(message)
                else:
                    self._responses[message["id"]] = message
                self._changed.notify_all()


def _message(stream: IO[bytes]) -> dict[str, Any] | None:
    length = None
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    if length is None:
        return None
    return json.loads(stream.read(length))  # type: ignore[no-any-return]


def _yes(request: dict[str, Any]) -> Any:
    params = request.get("params") or {}
    if request["method"] == "workspace/applyEdit":
        return {"applied": True}
    if request["method"] == "window/showMessageRequest":
        return (params.get("actions") or [None])[0]  # Allow once, Apply
    if request["method"] == "window/showDocument":
        return {"success": True}
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_killed_server_takes_its_check_along_and_the_next_one_reports_it(
    tmp_path: Path,
) -> None:
    workspace = make_workspace(tmp_path / "ws").resolve()
    token = f"orphan-{uuid.uuid4().hex[:10]}"
    check = sleeper(token, "check-started")
    config = workspace / ".plangate" / "config.toml"
    config.write_text(f"validate = [{check!r}]\n")
    log = tmp_path / "server.stderr"
    with ScriptedServer(Model()) as scripted:
        first = Editor(workspace, scripted.base_url, log)
        try:
            proposed = first.request(
                "plangate/proposePlan", {"agent": "backend-developer", "task": "Fix add()"}
            )
            session_id = proposed["sessionId"]
            first.request(
                "plangate/approvePhase",
                {"sessionId": session_id, "phase": 0, "decision": "approve"},
            )
            first.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 1)
            first.request(
                "plangate/approvePhase",
                {"sessionId": session_id, "phase": 1, "decision": "approve"},
            )
            started = wait_for(
                lambda: (workspace / "check-started").exists() or first.process.poll() is not None,
                START,
            )
            started = started and first.process.poll() is None
            assert started, log.read_text()[-3000:]
            assert len(named(f"{token}-job", first=True)) == 2
            first.process.kill()
            assert first.process.wait(timeout=GONE) < 0
            assert wait_for(lambda: not named(token), GONE), f"still running: {named(token)}"
        finally:
            first.close()
            kill_all(token)

        config.write_text(f"validate = [{QUICK_CHECK!r}]\n")
        second = Editor(workspace, scripted.base_url, log)
        try:
            listed = second.request("plangate/listSessions", {})
            assert [s["sessionId"] for s in listed["sessions"]] == [session_id]
            summary = second.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 2)
            assert summary["phases"][0]["status"] == "done"
            message = prompts.check_interrupted(1, 1, check)
            output = second.kinds("plangate/output")
            assert {"sessionId": session_id, "kind": "interrupted", "text": message} in output
            assert {"type": 2, "message": f"PlanGate: {message}"} in second.kinds(
                "window/showMessage"
            )
        finally:
            second.close()
