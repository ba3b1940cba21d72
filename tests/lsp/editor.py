"""What an editor does with a `workspace/applyEdit`: apply it to its own copy of each document
(LSP line breaks, UTF-16 columns, versions checked), then save. Tests assert on what this
editor made of the edit, never on what the server wrote itself."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path


class EditRefused(Exception):
    """The editor would not apply the edit (its reason is the `failureReason`)."""


def apply_text_edits(old: str, edits: list[tuple[types.Range, str]]) -> str:
    r"""Apply edits the way an LSP client does: lines end at \n, \r\n or \r (nothing else),
    characters are UTF-16 code units of the old text; every range is in the old text."""
    rows, breaks = re.split(r"\r\n|\r|\n", old), re.findall(r"\r\n|\r|\n", old)

    def offset(position: types.Position) -> int:
        if position.line >= len(rows):
            raise EditRefused(f"line {position.line} is past the end of the document")
        before = sum(len(rows[i]) + len(breaks[i]) for i in range(position.line))
        units = rows[position.line].encode("utf-16-le")[: position.character * 2]
        return before + len(units.decode("utf-16-le", errors="strict"))

    result = old
    for where, text in sorted(edits, key=lambda e: offset(e[0].start), reverse=True):
        result = result[: offset(where.start)] + text + result[offset(where.end) :]
    return result


@dataclass
class Buffer:
    """An open document: its version and text, maybe unsaved."""

    version: int
    text: str


@dataclass
class Buffers:
    """Open buffers by URI; files not open are read from disk, as an editor opens them."""

    buffers: dict[str, Buffer] = field(default_factory=dict)

    def text(self, uri: str) -> str:
        """The document as the editor has it: its buffer, else the file on disk (bytes kept)."""
        if uri in self.buffers:
            return self.buffers[uri].text
        return _path(uri).read_bytes().decode("utf-8")

    def apply(self, edit: types.WorkspaceEdit, save: bool = True) -> list[str]:
        """Apply `edit` all or nothing and save each file it touched (unless not `save`: then
        only open buffers change); return their URIs.

        Like VS Code: a text edit naming a version other than the open buffer's is refused
        ("changed in the meantime"); a file created with overwrite=False must not exist."""
        results: dict[str, str] = {}
        for change in edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                options = change.options
                exists = _path(change.uri).exists() or change.uri in results
                if exists and not (options and (options.overwrite or options.ignore_if_exists)):
                    raise EditRefused(f"{change.uri} already exists")
                if not exists or (options and options.overwrite):
                    results[change.uri] = ""
            elif isinstance(change, types.TextDocumentEdit):
                uri, version = change.text_document.uri, change.text_document.version
                buffer = self.buffers.get(uri)
                if version is not None and buffer is not None and buffer.version != version:
                    raise EditRefused(f"{uri} has changed in the meantime")
                old = results[uri] if uri in results else self.text(uri)
                results[uri] = apply_text_edits(old, [(e.range, e.new_text) for e in change.edits])
            else:
                raise EditRefused(f"unsupported resource operation {type(change).__name__}")
        for uri, edits in (edit.changes or {}).items():
            old = results[uri] if uri in results else self.text(uri)
            results[uri] = apply_text_edits(old, [(e.range, e.new_text) for e in edits])
        for uri, text in results.items():
            buffer = self.buffers.get(uri)
            if buffer is not None:
                buffer.version, buffer.text = buffer.version + 1, text
            if not save:
                continue
            path = _path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        return list(results)


def _path(uri: str) -> Path:
    path = to_fs_path(uri)
    assert path is not None, uri
    return Path(path)
