"""opencode.json / opencode.jsonc: the agents, project-wide permission rules, instructions and
default model an opencode user already wrote, read with opencode's precedence.

Files, from the weakest to the strongest (a later file's values win, `instructions` add up):
the user's global config (`~/.config/opencode/opencode.json{,c}`), `$OPENCODE_CONFIG`, the
project's files from the repository root down to the workspace, then each `.opencode/` folder's.
JSONC comments and trailing commas are allowed, and `{env:VAR}` is replaced as opencode does.
Values keep their line and column, so rules from these files are shown where they were written.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plangate.agents.frontmatter import Frontmatter, walk_yaml
from plangate.agents.instructions import config_home, upward
from plangate.diagnostics import Diagnostic, Severity, SourcePos

NAMES = ("opencode.json", "opencode.jsonc")
_ENV = re.compile(r"\{env:([^}]+)\}")


@dataclass
class ConfigFile:
    """One config file, parsed: its data with the position of every key and value."""

    path: Path
    parsed: Frontmatter

    def section(self, *path: str) -> Frontmatter:
        """The part of the file under `path` (`agent`, `review`), as a frontmatter of its own
        (positions kept), so agent and permission checks report at the right place."""
        data: Any = self.parsed.data
        for key in path:
            data = data.get(key) if isinstance(data, dict) else None
        n = len(path)
        return Frontmatter(
            file=self.path,
            data=data if isinstance(data, dict) else {},
            body="",
            key_pos={k[n:]: v for k, v in self.parsed.key_pos.items() if k[:n] == path},
            value_pos={k[n:]: v for k, v in self.parsed.value_pos.items() if k[:n] == path},
        )


@dataclass
class ProjectConfig:
    """Every opencode config file of a workspace, weakest first."""

    files: list[ConfigFile] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Problems reading the files (JSON errors, with their position)."""
        return [d for f in self.files for d in f.parsed.diagnostics]

    def agents(self) -> dict[str, ConfigFile]:
        """Agent name -> the strongest file that defines it under `agent`."""
        found: dict[str, ConfigFile] = {}
        for file in self.files:
            block = file.parsed.data.get("agent")
            if isinstance(block, dict):
                found.update({name: file for name, spec in block.items() if isinstance(spec, dict)})
        return found

    def with_key(self, key: str) -> list[ConfigFile]:
        """The files that set top-level `key`, weakest first."""
        return [f for f in self.files if key in f.parsed.data]

    def model(self) -> tuple[str, ConfigFile] | None:
        """The default model (the strongest file's `model`), if any."""
        for file in reversed(self.with_key("model")):
            value = file.parsed.data["model"]
            if isinstance(value, str) and value.strip():
                return value.strip(), file
        return None

    def instructions(self) -> list[str]:
        """Every file's `instructions` entries, in order, each once."""
        entries: list[str] = []
        for file in self.with_key("instructions"):
            value = file.parsed.data["instructions"]
            for entry in value if isinstance(value, list) else []:
                if isinstance(entry, str) and entry not in entries:
                    entries.append(entry)
        return entries


def config_files(workspace: Path) -> list[Path]:
    """The config files that exist, weakest first."""
    candidates = [config_home() / "opencode" / name for name in NAMES]
    explicit = os.environ.get("OPENCODE_CONFIG")
    if explicit:
        candidates.append(Path(explicit))
    folders = list(reversed(upward(workspace.resolve())))  # the repository root first
    candidates += [folder / name for folder in folders for name in NAMES]
    candidates += [folder / ".opencode" / name for folder in folders for name in NAMES]
    seen: set[Path] = set()
    found = []
    for path in candidates:
        if path.is_file() and path.resolve() not in seen:
            seen.add(path.resolve())
            found.append(path)
    return found


def load_config(workspace: Path) -> ProjectConfig:
    """The workspace's opencode config files, parsed."""
    return ProjectConfig([read_file(path) for path in config_files(workspace)])


def read_file(path: Path, text: str | None = None, *, positions: bool = True) -> ConfigFile:
    """One config file (or an editor's unsaved text of it); without `positions` (a large file
    of which one key is wanted) its values are placed at the top."""
    parsed = Frontmatter(file=path, data={}, body="")
    try:
        source = text if text is not None else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        parsed.diagnostics.append(_error(path, 1, 1, f"cannot read {path.name}: {exc}"))
        return ConfigFile(path, parsed)
    source = _ENV.sub(lambda m: os.environ.get(m.group(1), ""), source)
    plain = without_comments(source)
    try:
        data = json.loads(plain)
    except json.JSONDecodeError as exc:
        parsed.diagnostics.append(_error(path, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}"))
        return ConfigFile(path, parsed)
    if not isinstance(data, dict):
        parsed.diagnostics.append(_error(path, 1, 1, f"{path.name} must hold a JSON object"))
        return ConfigFile(path, parsed)
    # JSON is YAML: read again for the position of every key and value. JSON the YAML reader
    # refuses (tabs in odd places) keeps its data, positioned at the top.
    if positions:
        walk_yaml(parsed, plain, line_offset=0)
    if parsed.data != data:
        parsed.data, parsed.key_pos, parsed.value_pos = data, {}, {}
        parsed.diagnostics.clear()
    return ConfigFile(path, parsed)


def _error(path: Path, line: int, column: int, message: str) -> Diagnostic:
    return Diagnostic(
        pos=SourcePos(file=path, line=line, column=column),
        severity=Severity.ERROR,
        code="config",
        message=message,
    )


def without_comments(text: str) -> str:
    """JSONC as JSON: comments become spaces and trailing commas go, every other character
    (and so every line and column) staying where it was."""
    out = list(text)
    i, n = 0, len(text)
    last_comma: int | None = None
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            last_comma = None
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for k in range(i, end):
                if out[k] != "\n":
                    out[k] = " "
            i = end
            continue
        if ch == ",":
            last_comma = i
        elif ch in "}]" and last_comma is not None:
            out[last_comma] = " "
            last_comma = None
        elif not ch.isspace():
            last_comma = None
        i += 1
    return "".join(out)


__all__ = ["ConfigFile", "ProjectConfig", "config_files", "load_config", "read_file"]
