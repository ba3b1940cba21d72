"""A scripted stand-in for Anthropic's Messages API: a real HTTP server on 127.0.0.1.

It speaks the wire format the official SDK parses (`POST /v1/messages`, streaming SSE or JSON;
`POST /v1/messages/count_tokens`), answers from a script (a list of turns, or a function that
sees each request and returns the next turn), records every request, simulates prompt caching
with a deterministic tokenizer, and injects faults on demand: 429 with retry-after, 529, 500, a
connection dropped mid-stream, an SSE `error` event, slow streaming. Tests and the offline demo
drive the real SDK against it through `base_url`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

MAX_BREAKPOINTS = 4
FaultKind = Literal["rate_limit", "overloaded", "server_error", "drop", "sse_error", "slow"]


@dataclass
class Fault:
    """Something to go wrong with one attempt of a turn (the retry then succeeds)."""

    kind: FaultKind
    retry_after: float | None = None  # seconds, sent as retry-after / retry-after-ms
    after_events: int = 4  # for drop and sse_error: how many SSE events are sent first
    delay: float = 0.05  # for slow: seconds between events


@dataclass
class ToolUse:
    """A tool call the scripted model makes."""

    name: str
    input: dict[str, Any]
    id: str = field(default_factory=lambda: f"toolu_{uuid.uuid4().hex[:20]}")


@dataclass
class ScriptedTurn:
    """One answer of the scripted model."""

    text: str = ""
    tool_calls: list[ToolUse] = field(default_factory=list)
    stop_reason: str | None = None  # default: tool_use when there are calls, else end_turn
    faults: list[Fault] = field(default_factory=list)


Script = Sequence[ScriptedTurn] | Callable[[dict[str, Any]], ScriptedTurn]


@dataclass
class RecordedRequest:
    """A request as the server saw it (credentials reduced to whether they were sent)."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    usage: dict[str, int] | None = None


def count_tokens(value: Any) -> int:
    """A deterministic stand-in tokenizer: about four characters a token."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return max(1, math.ceil(len(text) / 4))


def _prompt_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Tools, then system, then message content: the order the cache prefix is built in."""
    blocks: list[dict[str, Any]] = [dict(tool) for tool in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str):
        blocks.append({"type": "text", "text": system})
    elif isinstance(system, list):
        blocks += system
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            blocks.append({"type": "text", "text": content, "role": message.get("role")})
        else:
            blocks += [{**block, "role": message.get("role")} for block in content or []]
    return blocks


class PromptCache:
    """Prefix cache keyed by hashes of the prompt up to each breakpoint, with TTLs."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.entries: dict[str, float] = {}
        self.lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        """Input, cache-write and cache-read tokens for a request, updating the cache."""
        blocks = _prompt_blocks(body)
        if body.get("cache_control") and blocks:  # automatic caching: the last block
            blocks[-1] = {**blocks[-1], "cache_control": body["cache_control"]}
        cumulative = [0]
        hashes: list[str] = []
        digest = hashlib.sha256(str(body.get("model")).encode())
        for block in blocks:
            clean = {k: v for k, v in block.items() if k != "cache_control"}
            cumulative.append(cumulative[-1] + count_tokens(clean))
            digest.update(json.dumps(clean, sort_keys=True).encode())
            hashes.append(digest.copy().hexdigest())
        breakpoints = [i for i, b in enumerate(blocks) if b.get("cache_control")]
        now = self.clock()
        with self.lock:
            read_end = 0
            for i in reversed(breakpoints):
                if self.entries.get(hashes[i], 0.0) > now:
                    read_end = i + 1
                    break
            last = breakpoints[-1] + 1 if breakpoints else 0
            for i in breakpoints:
                ttl = 3600.0 if blocks[i]["cache_control"].get("ttl") == "1h" else 300.0
                self.entries[hashes[i]] = now + ttl
        cached_end = max(last, read_end)
        return {
            "input_tokens": cumulative[-1] - cumulative[cached_end],
            "cache_creation_input_tokens": cumulative[last] - cumulative[read_end]
            if last > read_end
            else 0,
            "cache_read_input_tokens": cumulative[read_end],
        }


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (a dropped stream, a killed session) are not errors here."""


class ScriptedServer:
    """The server; use as a context manager or call start() and stop()."""

    def __init__(self, script: Script, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.script = script
        self.requests: list[RecordedRequest] = []
        self.cache = PromptCache(clock)
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
        """Listen on a free port of 127.0.0.1; returns the base URL."""
        handler = type("Handler", (_Handler,), {"scripted": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
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
                    turn.text, list(turn.tool_calls), turn.stop_reason, list(turn.faults)
                )
            fault = turn.faults.pop(0) if turn.faults else None
            # A fault that breaks the attempt leaves the turn pending for the retry.
            self._pending = turn if fault is not None and fault.kind != "slow" else None
            return turn, fault


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
        for secret in ("x-api-key", "authorization"):
            if secret in headers:
                headers[secret] = "<present>"
        record = RecordedRequest(path, body, headers)
        self.scripted.requests.append(record)
        if path == "/v1/messages/count_tokens":
            total = sum(
                count_tokens({k: v for k, v in b.items() if k != "cache_control"})
                for b in _prompt_blocks(body)
            )
            self._json(200, {"input_tokens": total})
            return
        if path != "/v1/messages":
            self._error(404, "not_found_error", f"no route {path}")
            return
        breakpoints = sum(1 for b in _prompt_blocks(body) if b.get("cache_control"))
        if breakpoints > MAX_BREAKPOINTS:
            self._error(
                400,
                "invalid_request_error",
                f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be "
                f"provided. Found {breakpoints}.",
            )
            return
        turn, fault = self.scripted.next_turn(body)
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
            self._error(status, kind, f"scripted {fault.kind}", fault.retry_after)
            return
        message = _message(body, turn, self.scripted.cache.usage(body))
        record.usage = dict(message["usage"])
        if body.get("stream"):
            self._stream(message, fault)
        else:
            self._json(200, message)

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
        self, status: int, kind: str, message: str, retry_after: float | None = None
    ) -> None:
        headers = {}
        if retry_after is not None:
            headers = {
                "retry-after": str(max(1, math.ceil(retry_after))),
                "retry-after-ms": str(int(retry_after * 1000)),
            }
        self._json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

    def _stream(self, message: dict[str, Any], fault: Fault | None) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for count, (event, data) in enumerate(_events(message)):
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
                    _sse(
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
            self._chunk(_sse(event, data))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _message(body: dict[str, Any], turn: ScriptedTurn, usage: dict[str, int]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if turn.text:
        content.append({"type": "text", "text": turn.text})
    for call in turn.tool_calls:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.input})
    stop = turn.stop_reason or ("tool_use" if turn.tool_calls else "end_turn")
    output = sum(count_tokens(block.get("text") or block.get("input")) for block in content) or 1
    return {
        "id": f"msg_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "scripted"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": output},
    }


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events the API sends for `message`, in order."""
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            for piece in _pieces(block["text"], 24):
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
        else:
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {**block, "input": {}},
                },
            )
            for piece in _pieces(json.dumps(block["input"]), 40):
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": usage,
        },
    )
    yield "message_stop", {"type": "message_stop"}
