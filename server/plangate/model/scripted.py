"""A scripted stand-in for Anthropic's Messages API: a real HTTP server on 127.0.0.1.

It speaks the wire format the official SDK parses (`POST /v1/messages`, streaming SSE or JSON;
`POST /v1/messages/count_tokens`), answers from a script (a list of turns, or a function that
sees each request and returns the next turn), records every request, simulates prompt caching
with a deterministic tokenizer, and injects faults on demand: 429 with retry-after, 529, 500, a
connection dropped mid-stream, an SSE `error` event, slow streaming. Tests and the offline demo
drive the real SDK against it through `base_url`.

It is at least as strict as the real API (`api_rules`): every request is checked against the
SDK's own request types and the API's rules, and what the API would reject gets the API's error.
Each rejection is recorded in `violations`, and, when `PLANGATE_SCRIPTED_VIOLATIONS` names a
file, appended there too, so the test suite fails on any request the API would refuse, whichever
process sent it. Given `api_key`, it answers a request without that key (`x-api-key`, or
`authorization: Bearer`, which the SDK sends) with the API's 401, so a test can tell the key it
set is the one that was sent. Scripted turns can think (signed thinking blocks, summarised or
omitted as the request asks) and stop with `stop_details`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from plangate.model.api_rules import Rejection, ThinkingSigner, check_request
from plangate.model.catalog import model_table
from plangate.model.scripted_cache import PromptCache, prompt_tokens
from plangate.model.scripted_turns import Fault, Script, ScriptedTurn, ToolUse
from plangate.model.scripted_wire import events, message_for, sse, without_marks

VIOLATIONS_ENV = "PLANGATE_SCRIPTED_VIOLATIONS"


@dataclass
class RecordedRequest:
    """A request as the server saw it (credentials reduced to whether they were sent)."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    usage: dict[str, Any] | None = None
    rejection: Rejection | None = None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (a dropped stream, a killed session) are not errors here."""


class ScriptedServer:
    """The server; use as a context manager or call start() and stop()."""

    def __init__(
        self,
        script: Script,
        *,
        clock: Callable[[], float] = time.monotonic,
        api_key: str | None = None,
        port: int = 0,
    ) -> None:
        self.script = script
        self.port = port  # 0: a free one
        self.api_key = api_key  # None: any key will do
        self.requests: list[RecordedRequest] = []
        self.cache = PromptCache(clock)
        self.signer = ThinkingSigner()
        self.violations: list[tuple[str, Rejection]] = []
        # The thinking blocks sent with each tool_use id: a tool loop must send them back.
        self.thinking_by_call: dict[str, list[dict[str, Any]]] = {}
        # Tests of the rules themselves expect rejections; nothing else may cause one.
        self.rejections_expected = False
        self._index = 0
        self._pending: ScriptedTurn | None = None
        self._lock = threading.Lock()
        self._httpd: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to give the SDK as `base_url` (no `/v1`)."""
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        """Listen on 127.0.0.1 (on `port`, or a free one); returns the base URL."""
        handler = type("Handler", (_Handler,), {"scripted": self})
        self._httpd = _QuietServer(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop listening."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The requests to /v1/messages, in order."""
        return [r for r in self.requests if r.path == "/v1/messages"]

    def next_turn(self, body: dict[str, Any]) -> tuple[ScriptedTurn | None, Fault | None]:
        """The turn to answer with, and the fault to inject into this attempt, if any."""
        with self._lock:
            turn = self._pending
            if turn is None:
                if callable(self.script):
                    turn = self.script(body)
                elif self._index < len(self.script):
                    turn = self.script[self._index]
                    self._index += 1
                else:
                    return None, None
                turn = ScriptedTurn(
                    turn.text,
                    list(turn.tool_calls),
                    turn.stop_reason,
                    list(turn.faults),
                    turn.thinking,
                    turn.stop_details,
                )
            fault = turn.faults.pop(0) if turn.faults else None
            # A fault that breaks the attempt leaves the turn pending for the retry.
            self._pending = turn if fault is not None and fault.kind != "slow" else None
            return turn, fault

    def reject(self, record: RecordedRequest, rejection: Rejection) -> None:
        """Record a request the real API would refuse."""
        record.rejection = rejection
        self.violations.append((record.path, rejection))
        target = os.environ.get(VIOLATIONS_ENV)
        if target and not self.rejections_expected:
            line = {"path": record.path, "status": rejection.status, "message": rejection.message}
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")


class _Handler(BaseHTTPRequestHandler):
    scripted: ScriptedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read recorded requests instead."""

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._error(400, "invalid_request_error", "body is not JSON")
            return
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        expected = self.scripted.api_key
        sent = {headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer ")}
        authenticated = expected is None or expected in sent
        for secret in ("x-api-key", "authorization"):
            if secret in headers:
                headers[secret] = "<present>"
        record = RecordedRequest(path, body, headers)
        self.scripted.requests.append(record)
        try:
            if not authenticated:
                rejection = Rejection(401, "authentication_error", "invalid x-api-key")
                self.scripted.reject(record, rejection)
                self._error(rejection.status, rejection.type, rejection.message)
                return
            self._answer(path, body, record)
        except OSError:
            return  # the client hung up mid-answer (a dropped stream, a killed session)
        except Exception as exc:  # a request the rules did not foresee: refuse it, loudly
            rejection = Rejection(400, "invalid_request_error", f"malformed request: {exc!r}")
            self.scripted.reject(record, rejection)
            self._error(rejection.status, rejection.type, rejection.message)

    def _answer(self, path: str, body: Any, record: RecordedRequest) -> None:
        scripted = self.scripted
        if not isinstance(body, dict):
            raise TypeError("the body is not a JSON object")
        if path not in ("/v1/messages", "/v1/messages/count_tokens"):
            self._error(404, "not_found_error", f"no route {path}")
            return
        rejection = check_request(
            body,
            count_tokens_only=path.endswith("count_tokens"),
            signer=scripted.signer,
            issued_thinking=scripted.thinking_by_call.get,
        )
        model = model_table().get(str(body.get("model")))
        if rejection is None and model is not None:
            tokens = prompt_tokens(body)
            if tokens > model.context_window:
                rejection = Rejection(
                    400,
                    "invalid_request_error",
                    f"prompt is too long: {tokens} tokens > {model.context_window} maximum",
                )
        if rejection is not None:
            scripted.reject(record, rejection)
            self._error(rejection.status, rejection.type, rejection.message)
            return
        if path == "/v1/messages/count_tokens":
            self._json(200, {"input_tokens": prompt_tokens(body)})
            return
        turn, fault = scripted.next_turn(body)
        if turn is None:
            self._error(
                400, "invalid_request_error", "scripted server: the script has no more turns"
            )
            return
        if fault is not None and fault.kind in ("rate_limit", "overloaded", "server_error"):
            status, kind = {
                "rate_limit": (429, "rate_limit_error"),
                "overloaded": (529, "overloaded_error"),
                "server_error": (500, "api_error"),
            }[fault.kind]
            self._error(
                status, kind, f"scripted {fault.kind}", fault.retry_after, fault.should_retry
            )
            return
        message = message_for(body, turn, scripted.cache.usage(body), scripted.signer)
        thinking = [b for b in message["content"] if b["type"] in ("thinking", "redacted_thinking")]
        for block in message["content"]:
            if block["type"] == "tool_use" and thinking:
                scripted.thinking_by_call[block["id"]] = thinking
        record.usage = dict(message["usage"])
        if body.get("stream"):
            self._stream(message, fault)
        else:
            self._json(200, without_marks(message))

    # ------------------------------------------------------------------ responses

    def _json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:16]}")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self,
        status: int,
        kind: str,
        message: str,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        headers = {}
        if retry_after is not None:
            headers = {
                "retry-after": str(max(1, math.ceil(retry_after))),
                "retry-after-ms": str(int(retry_after * 1000)),
            }
        if should_retry is not None:
            headers["x-should-retry"] = "true" if should_retry else "false"
        self._json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

    def _stream(self, message: dict[str, Any], fault: Fault | None) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for count, (event, data) in enumerate(events(message)):
            if (
                fault is not None
                and fault.kind in ("drop", "sse_error")
                and count >= fault.after_events
            ):
                if fault.kind == "drop":
                    # Close without the final chunk: the client sees a broken transfer.
                    self.wfile.flush()
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._chunk(
                    sse(
                        "error",
                        {
                            "type": "error",
                            "error": {"type": "overloaded_error", "message": "Overloaded"},
                        },
                    )
                )
                break
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            self._chunk(sse(event, data))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


__all__ = ["Fault", "ScriptedServer", "ScriptedTurn", "ToolUse"]
