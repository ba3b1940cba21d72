"""The real server over stdio, as VS Code and as Neovim would drive it, and what it sent."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from plangate.lsp.params import plain
from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.editor import Buffer, Buffers, EditRefused
from tests.workflow.scenario import Model, make_workspace, plan_input

CLIENTS = ["visual-studio-code", "neovim"]


def _path_of(uri: str) -> Path:
    from plangate.lsp.params import uri_path

    return uri_path(uri)


API_KEY = "sk-ant-offline-test-key-0123456789"


class Harness:
    """What the client saw: notifications, edits, message requests; and its editor, which
    applies the previews it accepts to its own buffers and saves them."""

    def __init__(self, client: LanguageClient, workspace: Path) -> None:
        self.client = client
        self.workspace = workspace
        self.changed: list[dict[str, Any]] = []
        self.output: list[dict[str, Any]] = []
        self.edits: list[types.ApplyWorkspaceEditParams] = []
        self.messages: list[types.ShowMessageRequestParams] = []
        self.message_answers: list[str] = []  # titles to press, in turn, before the defaults
        # Open a file the edit names in a buffer first, and keep it open (as eglot does).
        self.open_to_apply = False
        self.previews = True  # set by the fixture from the client's capabilities
        self.edit_times: list[float] = []  # when each workspace/applyEdit arrived (monotonic)
        self.accept_edits = True  # False: discard previews (and press Reject in the fallback)
        # The edits of a preview left ticked, by index in each file (None: all), as VS Code's
        # Refactor Preview applies only those and answers applied.
        self.ticked: set[int] | None = None
        self.editor = Buffers()
        self.refused: list[str] = []  # why the editor refused an edit it was sent

    def open(self, uri: str, text: str, language: str = "markdown") -> None:
        """Open a document in the client, as an editor does when the user opens a file."""
        self.editor.buffers[uri] = Buffer(version=1, text=text)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )

    def type(self, uri: str, text: str) -> None:
        """The user edits an open document (unsaved): its whole new text, a new version."""
        buffer = self.editor.buffers[uri]
        buffer.version, buffer.text = buffer.version + 1, text
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=buffer.version
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        """What the editor answers to `workspace/applyEdit`, having applied it or not."""
        self.edits.append(params)
        self.edit_times.append(time.monotonic())
        if not self.accept_edits:
            return types.ApplyWorkspaceEditResult(applied=False)
        edit = params.edit
        if self.open_to_apply:
            for change in edit.document_changes or []:
                uri = getattr(getattr(change, "text_document", None), "uri", None)
                if uri is not None and uri not in self.editor.buffers:
                    self.open(uri, _path_of(uri).read_text(), "python")
        if self.ticked is not None:
            ticked = self.ticked
            edit = types.WorkspaceEdit(
                document_changes=[
                    types.TextDocumentEdit(
                        text_document=c.text_document,
                        edits=[e for i, e in enumerate(c.edits) if i in ticked],
                    )
                    if isinstance(c, types.TextDocumentEdit)
                    else c
                    for c in edit.document_changes or []
                ],
                change_annotations=edit.change_annotations,
            )
        try:
            touched = self.editor.apply(edit)
        except EditRefused as exc:
            self.refused.append(str(exc))
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason=str(exc))
        for uri in touched:  # open buffers changed: the server hears it, as from any editor
            if uri in self.editor.buffers:
                buffer = self.editor.buffers[uri]
                self.client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        text_document=types.VersionedTextDocumentIdentifier(
                            uri=uri, version=buffer.version
                        ),
                        content_changes=[
                            types.TextDocumentContentChangeWholeDocument(text=buffer.text)
                        ],
                    )
                )
        return types.ApplyWorkspaceEditResult(applied=True)

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.protocol.send_request_async(method, params)
        return plain(result)  # type: ignore[no-any-return]

    async def until(self, session_id: str, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        """Poll sessionStatus until `predicate(summary)` holds (bounded in time)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            summary = await self.request("plangate/sessionStatus", {"sessionId": session_id})
            if predicate(summary):
                return summary
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; last status {summary}")
            await asyncio.sleep(0.1)


# What the tests' phase 1 changes and runs: declared, so no amendment is asked about it.
PHASE_1_PLAN = plan_input(
    files=("app.py", "calc.py"), commands=("echo fixed >> CHANGES.txt", "echo made > made.txt")
)


async def run_phase_1(
    harness: Harness,
    scripted: ScriptedServer,
    work: ScriptedTurn | list[ScriptedTurn] | None,
    task: str = "Fix add() in app.py",
) -> tuple[str, str]:
    """A session whose model plans, does `work` (one turn or several) in phase 1, then
    completes it; the plan and phase 1 approved. Returns the session id and the plan's URI."""
    turns = [] if work is None else work if isinstance(work, list) else [work]
    scripted.script.steps = [  # type: ignore[union-attr]
        ScriptedTurn(tool_calls=[ToolUse("propose_plan", PHASE_1_PLAN, id="t-plan")]),
        *turns,
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "done"}, id="t-done")]),
    ]
    proposed = await harness.request(
        "plangate/proposePlan", {"agent": "backend-developer", "task": task}
    )
    session_id = proposed["sessionId"]
    for phase in (0, 1):
        await harness.until(session_id, lambda s, p=phase: (s["pending"] or {}).get("phase") == p)
        await harness.request(
            "plangate/approvePhase",
            {"sessionId": session_id, "phase": phase, "decision": "approve"},
        )
    return session_id, proposed["planUri"]


def listen(lsp_client: LanguageClient, seen: Harness) -> None:
    """The client's handlers: what the server sends is recorded in `seen`, which answers."""

    @lsp_client.feature("plangate/sessionChanged")
    def on_changed(params: Any) -> None:
        seen.changed.append(plain(params))

    @lsp_client.feature("plangate/output")
    def on_output(params: Any) -> None:
        seen.output.append(plain(params))

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return seen.apply(params)

    @lsp_client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_message(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        seen.messages.append(params)
        actions = {a.title: a for a in params.actions or []}
        if seen.message_answers:
            return actions[seen.message_answers.pop(0)]
        if not seen.accept_edits and "Reject" in actions:
            return actions["Reject"]
        return params.actions[0] if params.actions else None  # Allow once / Apply

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(params: Any) -> None:
        return None


async def initialize(
    lsp_client: LanguageClient,
    capabilities: types.ClientCapabilities,
    workspace: Path,
    scripted: ScriptedServer,
) -> None:
    """`initialize` with `capabilities`, the workspace and the scripted model's URL."""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
            initialization_options={
                "anthropicApiKey": API_KEY,
                "anthropicBaseUrl": scripted.base_url,
            },
        )
    )


@pytest.fixture
def scripted() -> Any:
    with ScriptedServer(Model()) as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws").resolve()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "plangate.cli", "serve"]),
    params=CLIENTS,
)
async def client(
    request: Any, lsp_client: LanguageClient, scripted: ScriptedServer, workspace: Path
) -> Any:
    seen = Harness(lsp_client, workspace)
    lsp_client.harness = seen  # type: ignore[attr-defined]
    capabilities = client_capabilities(request.param)
    edit_caps = capabilities.workspace.workspace_edit if capabilities.workspace else None
    # Previews (annotated edits the editor applies) or prompts (the server writes the file).
    seen.previews = bool(edit_caps and edit_caps.change_annotation_support)

    listen(lsp_client, seen)
    await initialize(lsp_client, capabilities, workspace, scripted)
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def harness(client: LanguageClient) -> Harness:
    return client.harness  # type: ignore[attr-defined,no-any-return]
