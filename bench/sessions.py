"""Twenty sessions on one workspace at once, through the real server: do they all complete,
how fast does `plangate/sessionStatus` answer meanwhile, and how much memory does it take.

`plangate serve` runs over stdio as an editor starts it; the scripted Messages API server (in
a process of its own, so its threads do not slow the measuring client) plays the model. Each
session reads its own module, proposes a two-phase plan, edits the module, runs a command, and
writes its documentation; the client answers every plan and phase approval, applies each
`workspace/applyEdit` to the files as an editor does (LSP line breaks, UTF-16 columns) before
answering `applied`, and polls `plangate/sessionStatus` of every session all the while, one
request at a time. A `textDocument/codeLens` on an ordinary file (no session behind it: the
cheapest round trip the server has) is timed in the same run as the reference.

Claims checked: every session completes, sessionStatus p99 < 50 ms. Exit status 1 otherwise.

    .venv/bin/python bench/sessions.py [--sessions N] [--timeout SECONDS]

tests/lsp/test_concurrent_sessions.py drives the same run (without timing claims).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from plangate.lsp.params import plain
from plangate.model.scripted import Fault, ScriptedServer, ScriptedTurn, ToolUse

SERVE = [sys.executable, "-m", "plangate.cli", "serve"]
SESSIONS = 20
TARGET_P99_MS = 50.0
# Between two streamed events of a model turn: a turn takes about half a second, several times
# faster than the real API, so the twenty sessions keep the server busy (with 0 they are never
# waiting for anything and the server's loop runs flat out: see --pace 0).
PACE = 0.05
POLL_PAUSE = 0.002  # between two rounds of requests, so the client is not a busy loop
FINISHED = {"completed", "failed", "cancelled", "paused"}


# The workspace and the model -------------------------------------------------------------


def module(index: int) -> str:
    """The file session `index` works on."""
    return f"pkg/mod_{index}.py"


def make_workspace(root: Path, count: int) -> Path:
    """A package of `count` modules (one per session), a check over all of them, and the
    validation command."""
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("")
    for i in range(count):
        (root / module(i)).write_text(f"def value_{i}():\n    return -1\n")
    (root / "check_mods.py").write_text(
        "import importlib\nimport pathlib\nimport unittest\n\n\n"
        "class T(unittest.TestCase):\n"
        "    def test_modules_import(self):\n"
        "        for path in sorted(pathlib.Path('pkg').glob('mod_*.py')):\n"
        "            importlib.import_module(f'pkg.{path.stem}')\n"
    )
    (root / "app.py").write_text("def add(a, b):\n    return a + b\n")
    (root / ".plangate").mkdir(exist_ok=True)
    (root / ".plangate" / "config.toml").write_text(
        'validate = ["python3 -m unittest -q check_mods"]\n'
    )
    return root.resolve()


TASK = re.compile(r"concurrent task (\d+)")


def task(index: int) -> str:
    """Session `index`'s task (the model finds the index in it)."""
    return f"concurrent task {index}: make value_{index}() return {index}"


class ConcurrentModel:
    """The scripted model: each session's turns follow from its own conversation (its task
    names its module), so twenty of them share one scripted server. `pace` is the time between
    two streamed events of a turn (0: all at once)."""

    def __init__(self, pace: float = 0.0) -> None:
        self.pace = pace

    def __call__(self, body: dict[str, Any]) -> ScriptedTurn:
        found = TASK.search(json.dumps(body["messages"][0]))
        if found is None:
            return ScriptedTurn(text="I do not know this task.")
        i = int(found.group(1))
        steps = _steps(i)
        turn = sum(1 for m in body["messages"] if m["role"] == "assistant")
        chosen = steps[turn] if turn < len(steps) else ScriptedTurn(text="Everything is done.")
        if self.pace > 0:
            chosen = dataclasses.replace(chosen, faults=[Fault("slow", delay=self.pace)])
        return chosen


def _steps(i: int) -> list[ScriptedTurn]:
    path, doc = module(i), f"docs/mod_{i}.md"
    plan = {
        "title": f"value_{i} returns {i}",
        "summary": f"value_{i}() returns -1; make it return {i}.",
        "analysis": {"requirements": [f"value_{i}() == {i}"], "security": ["none"]},
        "phases": [
            {
                "name": "Implementation",
                "goal": f"value_{i} returns {i}",
                "steps": [f"Edit {path}"],
                "files": [path],
                "acceptance_criteria": ["the modules import"],
            },
            {
                "name": "Documentation",
                "goal": "Document it",
                "steps": [f"Write {doc}"],
                "files": [doc],
                "acceptance_criteria": ["documented"],
            },
        ],
    }
    edit = {"file_path": path, "old_string": "return -1", "new_string": f"return {i}"}
    return [
        ScriptedTurn(
            text=f"Reading {path}.", tool_calls=[ToolUse("read", {"file_path": path}, id="t-read")]
        ),
        ScriptedTurn(text="My plan.", tool_calls=[ToolUse("propose_plan", plan, id="t-plan")]),
        ScriptedTurn(text="Editing.", tool_calls=[ToolUse("edit", edit, id="t-edit")]),
        ScriptedTurn(
            text="Looking at it.",
            tool_calls=[ToolUse("bash", {"command": f"cat {path}"}, id="t-cat")],
        ),
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "done"}, id="t-done1")]),
        ScriptedTurn(
            text="Documenting.",
            tool_calls=[
                ToolUse(
                    "write",
                    {"file_path": doc, "content": f"# value_{i}\n\nReturns {i}.\n"},
                    id="t-doc",
                )
            ],
        ),
        ScriptedTurn(
            tool_calls=[ToolUse("complete_phase", {"summary": "documented"}, id="t-done2")]
        ),
        ScriptedTurn(text="Everything is done."),
    ]


# The editor's side: applying a WorkspaceEdit ---------------------------------------------

_BREAK = re.compile(r"\r\n|\r|\n")


def _offset(text: str, position: types.Position) -> int:
    """Where an LSP position is in `text`: lines end at \\n, \\r\\n or \\r only, characters
    are UTF-16 code units; past the end of a line is its end, past the last line the end."""
    start = 0
    for _ in range(position.line):
        found = _BREAK.search(text, start)
        if found is None:
            return len(text)
        start = found.end()
    found = _BREAK.search(text, start)
    end = found.start() if found is not None else len(text)
    units, offset = 0, start
    while offset < end and units < position.character:
        units += 2 if ord(text[offset]) > 0xFFFF else 1
        offset += 1
    return offset


def apply_text_edits(text: str, edits: Sequence[types.TextEdit | Any]) -> str:
    """The edits applied at once, as an editor applies them (ranges refer to `text`)."""
    spans = sorted(
        ((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits),
        key=lambda span: (span[0], span[1]),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def apply_workspace_edit(edit: types.WorkspaceEdit) -> str | None:
    """Apply `edit` to the files on disk and save them, as an editor with no open buffers does;
    None when applied, else why not (nothing is changed then)."""
    writes: dict[Path, str] = {}

    def current(path: Path) -> str | None:
        if path in writes:
            return writes[path]
        return path.read_bytes().decode("utf-8") if path.exists() else None

    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            path = _path(change.uri)
            exists = current(path) is not None
            options = change.options
            if exists and not (options and (options.overwrite or options.ignore_if_exists)):
                return f"{path} exists"
            if not exists or (options and options.overwrite):
                writes[path] = ""
        elif isinstance(change, types.TextDocumentEdit):
            path = _path(change.text_document.uri)
            text = current(path)
            if text is None:
                return f"{path} does not exist"
            writes[path] = apply_text_edits(text, change.edits)
        else:
            return f"unsupported change {type(change).__name__}"
    for uri, edits in (edit.changes or {}).items():
        path = _path(uri)
        text = current(path)
        if text is None:
            return f"{path} does not exist"
        writes[path] = apply_text_edits(text, edits)
    for path, text in writes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return None


# The run ---------------------------------------------------------------------------------


@dataclass
class Run:
    """What a run of concurrent sessions gave."""

    ids: dict[int, str] = field(default_factory=dict)  # session index -> session id
    last: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> last sessionStatus
    failures: dict[str, str] = field(default_factory=dict)  # session (id or index) -> why
    approvals: int = 0
    edits_applied: int = 0
    edit_failures: list[str] = field(default_factory=list)
    status_ms: list[float] = field(default_factory=list)
    reference_ms: list[float] = field(default_factory=list)
    peak_rss_kb: int = 0
    cpu_seconds: float = 0.0  # the server's, user and system
    seconds: float = 0.0

    def completed(self) -> list[str]:
        """Ids of the sessions that completed."""
        return [sid for sid, s in self.last.items() if s.get("status") == "completed"]


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user and system, its threads included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident set (VmHWM), in kB; 0 when /proc cannot tell."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def start_client(workspace: Path, base_url: str, run: Run) -> LanguageClient:
    """`plangate serve` over stdio, initialised as VS Code would, with an editor's answers."""
    client = make_test_lsp_client()

    @client.feature(types.WORKSPACE_APPLY_EDIT)  # type: ignore[untyped-decorator]
    def on_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        why = apply_workspace_edit(params.edit)
        if why is not None:
            run.edit_failures.append(why)
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason=why)
        run.edits_applied += 1
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)  # type: ignore[untyped-decorator]
    def on_message(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        return params.actions[0] if params.actions else None  # Allow once

    @client.feature("plangate/sessionChanged")  # type: ignore[untyped-decorator]
    def on_changed(params: Any) -> None:
        found = TASK.search(str(params.task))
        if found is not None:
            run.ids.setdefault(int(found.group(1)), str(params.sessionId))

    @client.feature("plangate/output")  # type: ignore[untyped-decorator]
    def on_output(params: Any) -> None:
        """An editor shows it; the run needs none of it."""

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)  # type: ignore[untyped-decorator]
    def on_refresh(params: Any) -> None:
        """The run asks for what it needs anyway."""

    await client.start_io(*SERVE)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
            initialization_options={"anthropicApiKey": "bench", "anthropicBaseUrl": base_url},
        )
    )
    return client


async def _request(client: LanguageClient, method: str, params: dict[str, Any]) -> Any:
    """A custom request's result (pygls leaves `send_request_async` untyped)."""
    protocol: Any = client.protocol
    return await protocol.send_request_async(method, params)


async def _timed(request: Awaitable[Any], into: list[float]) -> Any:
    """The result of `request` (not yet started), its round trip added to `into` in ms."""
    started = time.perf_counter()
    result = await request
    into.append((time.perf_counter() - started) * 1000)
    return result


async def _answer(
    client: LanguageClient, session_id: str, summary: dict[str, Any], run: Run
) -> str:
    """Answer the session's pending question as the user would; '' or why it cannot be."""
    pending = summary.get("pending")
    if not pending:
        return ""
    if pending.get("kind") not in ("plan", "phase"):
        return f"unexpected question ({pending.get('kind')}): {pending.get('title')}"
    params = {"sessionId": session_id, "phase": pending["phase"], "decision": "approve"}
    try:
        await _request(client, "plangate/approvePhase", params)
    except JsonRpcException as exc:
        return f"approvePhase {params}: {exc}"
    run.approvals += 1
    return ""


async def drive(
    workspace: Path, base_url: str, count: int = SESSIONS, timeout: float = 120.0
) -> Run:
    """Start `count` sessions on `workspace` at once and see them through; bounded by
    `timeout` seconds (the sessions still running then are failures)."""
    run = Run()
    client = await start_client(workspace, base_url, run)
    started = time.monotonic()
    try:
        reference = workspace / "app.py"
        reference_uri = reference.as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=reference_uri, language_id="python", version=1, text=reference.read_text()
                )
            )
        )
        lens = types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=reference_uri))
        # As an editor's extension does on activation. This first request waits for the engine
        # to finish loading (the server's cold start, which bench/lsp.py measures): the run
        # starts after it.
        await asyncio.wait_for(_request(client, "plangate/listAgents", {}), 60)
        started = time.monotonic()
        proposals = [
            asyncio.ensure_future(
                _request(
                    client, "plangate/proposePlan", {"agent": "backend-developer", "task": task(i)}
                )
            )
            for i in range(count)
        ]
        deadline = started + timeout
        active: set[str] = set()
        while time.monotonic() < deadline:
            active |= {sid for sid in run.ids.values() if sid not in run.last}
            for i, failed in enumerate(proposals):
                if failed.done() and failed.exception() is not None and i not in run.ids:
                    run.failures.setdefault(f"#{i}", f"proposePlan: {failed.exception()}")
            for session_id in sorted(active):
                asked = _request(client, "plangate/sessionStatus", {"sessionId": session_id})
                summary = plain(await _timed(asked, run.status_ms))
                run.last[session_id] = summary
                if summary["status"] in FINISHED:
                    active.discard(session_id)
                    if summary["status"] != "completed":
                        run.failures[session_id] = f"{summary['status']}: {summary['reason']}"
                    continue
                why = await _answer(client, session_id, summary, run)
                if why:
                    run.failures[session_id] = why
                    active.discard(session_id)
            await _timed(client.text_document_code_lens_async(lens), run.reference_ms)
            settled = len(run.last) + len([k for k in run.failures if k.startswith("#")])
            if settled >= count and not active:
                break
            await asyncio.sleep(POLL_PAUSE)
        for session_id in active:
            status = run.last.get(session_id, {})
            run.failures[session_id] = (
                f"still {status.get('status')} after {timeout:.0f} s (pending: "
                f"{(status.get('pending') or {}).get('title')})"
            )
        for i in range(count):
            if i not in run.ids and f"#{i}" not in run.failures:
                run.failures[f"#{i}"] = "never reported a session id"
        _, unanswered = await asyncio.wait(proposals, timeout=5)
        for future in unanswered:
            future.cancel()
        run.seconds = time.monotonic() - started
        assert client._server is not None
        run.peak_rss_kb = peak_rss_kb(client._server.pid)
        run.cpu_seconds = cpu_seconds(client._server.pid)
    finally:
        await asyncio.wait_for(client.shutdown_session(), 30)
        stop: Any = client.stop
        await stop()
    return run


# Reporting -------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (nearest rank), 0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def report(run: Run, count: int) -> bool:
    """Print the figures; True when every claim holds."""
    completed = run.completed()
    print(f"{count} sessions on one workspace: {len(completed)} completed in {run.seconds:.1f} s")
    print(f"  {run.approvals} approvals answered, {run.edits_applied} edits applied by the client")
    for who, why in sorted(run.failures.items()):
        print(f"  NOT COMPLETED {who}: {why}")
    for why in run.edit_failures:
        print(f"  edit refused by the client: {why}")
    s50, s99 = percentile(run.status_ms, 0.5), percentile(run.status_ms, 0.99)
    r50, r99 = percentile(run.reference_ms, 0.5), percentile(run.reference_ms, 0.99)
    print(
        f"plangate/sessionStatus: {len(run.status_ms)} requests, p50 {s50:.1f} ms, "
        f"p99 {s99:.1f} ms, max {max(run.status_ms, default=0):.1f} ms"
    )
    print(
        f"reference (textDocument/codeLens on a plain file): {len(run.reference_ms)} requests, "
        f"p50 {r50:.1f} ms, p99 {r99:.1f} ms"
    )
    if r50 and r99:
        print(f"  sessionStatus / reference: p50 x{s50 / r50:.2f}, p99 x{s99 / r99:.2f}")
    print(
        f"server peak RSS (VmHWM): {run.peak_rss_kb / 1024:.0f} MB; server CPU "
        f"{run.cpu_seconds:.1f} s in {run.seconds:.1f} s"
    )
    ok = len(completed) == count and not run.failures and s99 < TARGET_P99_MS
    print(
        f"targets (all {count} complete, sessionStatus p99 < {TARGET_P99_MS:.0f} ms): "
        f"{'met' if ok else 'MISSED'}"
    )
    return ok


def _serve_model(urls: Any, stop: Any, pace: float) -> None:
    """The scripted API in a process of its own."""
    with ScriptedServer(ConcurrentModel(pace)) as scripted:
        urls.put(scripted.base_url)
        stop.wait(600)


async def main_async(count: int, timeout: float, pace: float) -> int:
    context = multiprocessing.get_context("spawn")
    urls, stop = context.Queue(), context.Event()
    model = context.Process(target=_serve_model, args=(urls, stop, pace), daemon=True)
    model.start()
    try:
        base_url = urls.get(timeout=60)
        with tempfile.TemporaryDirectory() as folder:
            workspace = make_workspace(Path(folder) / "ws", count)
            run = await drive(workspace, base_url, count, timeout)
    finally:
        stop.set()
        model.join(10)
    return 0 if report(run, count) else 1


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument(
        "--pace",
        type=float,
        default=PACE,
        help="seconds between two streamed events of a model turn (0: the whole turn at once)",
    )
    args = parser.parse_args()
    print(f"model: scripted, {args.pace * 1000:.0f} ms between streamed events")
    return asyncio.run(main_async(args.sessions, args.timeout, args.pace))


if __name__ == "__main__":
    raise SystemExit(main())
