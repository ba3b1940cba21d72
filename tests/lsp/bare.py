"""A bare JSON-RPC editor over `plangate serve`'s stdio, for tests that kill one server and
start another: pytest-lsp's fixture owns one server for a whole test and shuts it down
politely."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

from tests.orphans import GONE

TIMEOUT = 60.0  # seconds for any answer or state the test waits for
NO_ANSWER = object()  # what `answer` returns to leave a request unanswered
# A client that shows previews of annotated edits (VS Code's Refactor Preview): it gets
# `workspace/applyEdit` for each change; one without gets prompts and the server writes.
PREVIEWS = {
    "workspace": {"workspaceEdit": {"documentChanges": True, "changeAnnotationSupport": {}}}
}


class ErrorAnswer(NamedTuple):
    """What `answer` returns to reply with a JSON-RPC error, as some editors decline."""

    code: int
    message: str


class Editor:
    """`plangate serve` and a client that says yes by default: the first action of every
    message request, every edit applied, every document shown (`answer` decides otherwise).
    It keeps the notifications it receives."""

    def __init__(
        self,
        workspace: Path,
        base_url: str,
        log: Path,
        answer: Callable[[dict[str, Any]], Any] | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> None:
        self.answer = answer or yes
        self.stderr = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "plangate.cli", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.notifications: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []  # the server's requests to the client
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
                "capabilities": capabilities or {},
                "initializationOptions": {
                    "anthropicApiKey": "sk-ant-offline-test-key-0123456789",
                    "anthropicBaseUrl": base_url,
                },
            },
        )
        self.notify("initialized", {})

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification (didOpen, didChange, ...)."""
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

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

    def start_phase_1(self, task: str) -> str:
        """Propose a plan for `task` with the seed agent, approve it and phase 1; the id."""
        session_id: str = self.request(
            "plangate/proposePlan", {"agent": "backend-developer", "task": task}
        )["sessionId"]
        for phase in (0, 1):
            self.until(session_id, lambda s, p=phase: (s["pending"] or {}).get("phase") == p)
            self.request(
                "plangate/approvePhase",
                {"sessionId": session_id, "phase": phase, "decision": "approve"},
            )
        return session_id

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
                with self._changed:
                    self.requests.append(message)
                result = self.answer(message)
                reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
                if isinstance(result, ErrorAnswer):
                    reply["error"] = {"code": result.code, "message": result.message}
                else:
                    reply["result"] = result
                if result is not NO_ANSWER:
                    with contextlib.suppress(OSError):
                        self._send(reply)
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


def yes(request: dict[str, Any]) -> Any:
    """The default answer to a request from the server."""
    params = request.get("params") or {}
    if request["method"] == "workspace/applyEdit":
        return {"applied": True}
    if request["method"] == "window/showMessageRequest":
        return (params.get("actions") or [None])[0]  # Allow once, Apply
    if request["method"] == "window/showDocument":
        return {"success": True}
    return None
