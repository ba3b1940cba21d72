"""Workspace URIs are percent-decoded: a folder named `my ws ü` is that folder, not a sibling
`my%20ws%20%C3%BC` (issue 14, item 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from plangate.lsp.params import uri_path
from plangate.lsp.sessions import SessionManager


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("file:///home/me/my%20ws%20%C3%BC/agents/a.md", "/home/me/my ws ü/agents/a.md"),
        ("file:///home/me/plain/app.py", "/home/me/plain/app.py"),
        ("file:///home/me/a%23b/c%25d.py", "/home/me/a#b/c%d.py"),
        ("/home/me/already a path", "/home/me/already a path"),
    ],
)
def test_uri_path_decodes(uri: str, path: str) -> None:
    assert uri_path(uri) == Path(path)


def test_a_windows_uri_keeps_its_drive() -> None:
    assert str(uri_path("file:///c%3A/Users/me/ws")).lower().startswith("c:/users/me/ws")


def test_a_session_runs_in_the_folder_the_uri_names(tmp_path: Path) -> None:
    folder = tmp_path / "my ws ü"
    folder.mkdir()
    sessions = SessionManager(cast(Any, object()))
    assert sessions.folder(folder.as_uri()) == folder.resolve()
    assert not (tmp_path / "my%20ws%20%C3%BC").exists()
