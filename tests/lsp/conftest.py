"""The real server over stdio, as VS Code and as Neovim would drive it, and what it sent."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from plangate.lsp.params import plain
from plangate.model.scripted import ScriptedServer
from tests.workflow.scenario import Model, make_workspace

CLIENTS = ["visual-studio-code", "neovim"]
API_KEY = "sk-ant-offline-test-key-0123456789"


class Harness:
    """What the client saw: notifications, edits, message requests."""

    def __init__(self, client: LanguageClient, workspace: Path) -> None:
        self.client = client
        self.workspace = workspace
        self.changed: list[dict[str, Any]] = []
        self.output: list[dict[str, Any]] = []
        self.edits: list[types.ApplyWorkspaceEditParams] = []
        self.messages: list[types.ShowMessageRequestParams] = []
        self.accept_edits = True  # False: discard previews (and press Reject in the fallback)

    def open(self, uri: str, text: str, language: str = "markdown") -> None:
        """Open a document in the client, as an editor does when the user opens a file."""
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )

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

    @lsp_client.feature("plangate/sessionChanged")
    def on_changed(params: Any) -> None:
        seen.changed.append(plain(params))

    @lsp_client.feature("plangate/output")
    def on_output(params: Any) -> None:
        seen.output.append(plain(params))

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        seen.edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=seen.accept_edits)

    @lsp_client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_message(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        seen.messages.append(params)
        actions = {a.title: a for a in params.actions or []}
        if not seen.accept_edits and "Reject" in actions:
            return actions["Reject"]
        return params.actions[0] if params.actions else None  # Allow once / Apply

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(params: Any) -> None:
        return None

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
            initialization_options={
                "anthropicApiKey": API_KEY,
                "anthropicBaseUrl": scripted.base_url,
            },
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def harness(client: LanguageClient) -> Harness:
    return client.harness  # type: ignore[attr-defined,no-any-return]
