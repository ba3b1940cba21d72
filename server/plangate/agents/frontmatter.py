"""Split a markdown file into YAML frontmatter and body, keeping the position of every node.

PyYAML's composer gives each node a start mark; we walk the node tree ourselves so that a
problem with any key or value can be reported at its exact line and column.

Claude Code and opencode accept an unquoted `: ` inside a one-line value (`description: Use
this agent when: ...`), which is invalid YAML. Like opencode (`fallbackSanitization` in its
config/markdown.ts), a frontmatter that fails to parse is read again with each such top-level
value rewritten as a literal block scalar; each rewrite is a warning with a quick fix.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from plangate.diagnostics import Diagnostic, Severity, SourcePos, TextFix

# libyaml when PyYAML was built with it: same nodes and marks, about ten times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KeyPath = tuple[str, ...]
# An agent's frontmatter is a few dozen values. YAML aliases can make a small file expand
# exponentially ("billion laughs"): reading stops past these bounds, with an error.
MAX_FRONTMATTER = 256 * 1024  # characters
MAX_VALUES = 10_000


# opencode's pattern for a top-level `key: value` line.
_KEY_LINE = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*:\s*(.*)")


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Rewrite:
    """A top-level `key: value` line read again as `key: |-` then `  value`."""

    line: int  # 0-based, in the frontmatter source
    key: str
    value: str  # stripped, as opencode does
    column: int  # 0-based, where `value` starts in the line


def _sanitise(source: str) -> tuple[str, list[_Rewrite]]:
    """opencode's fallback: every unindented, non-comment `key: value` line whose value is not
    empty, a block indicator or quoted, and holds a ':', becomes a literal block scalar."""
    out: list[str] = []
    rewrites: list[_Rewrite] = []
    for number, line in enumerate(source.splitlines(keepends=True)):
        content = (line.splitlines() or [""])[0]
        # Indented lines belong to the value above; comments and blank lines do not match.
        match = None if content[:1].isspace() else _KEY_LINE.fullmatch(content)
        value = match.group(2).strip() if match else ""
        if match is None or value in ("", ">", "|") or value[0] in "\"'" or ":" not in value:
            out.append(line)
            continue
        rewrites.append(_Rewrite(number, match.group(1), value, match.start(2)))
        out.append(f"{match.group(1)}: |-\n  {value}{line[len(content) :]}")
    return "".join(out), rewrites


def _to_original(rewrites: list[_Rewrite]) -> Callable[[int, int], tuple[int, int]]:
    """Map a (line, column) of the rewritten source back to the original: each rewrite made
    one line two, so the lines below it moved down by one."""
    headers = [r.line + i for i, r in enumerate(rewrites)]  # where each `key: |-` landed
    parts = {h: r for h, r in zip(headers, rewrites, strict=True)}

    def original(line: int, column: int) -> tuple[int, int]:
        if (rewrite := parts.get(line)) is not None:  # `key: |-`: the key, else the value
            return rewrite.line, column if column < len(rewrite.key) else rewrite.column
        if (rewrite := parts.get(line - 1)) is not None:  # `  value`
            return rewrite.line, rewrite.column + max(0, column - 2)
        return line - bisect.bisect_left(headers, line), column

    return original


def _quoted(value: str) -> str:
    """`value` as a YAML double-quoted scalar: JSON's escapes are all YAML escapes too."""
    return json.dumps(value, ensure_ascii=False)


def _read_alone(rewrite: _Rewrite) -> Any:
    """What plain YAML makes of the line on its own (None when it is invalid)."""
    try:
        return yaml.load(f"{rewrite.key}: {rewrite.value}", Loader=_Loader)
    except yaml.YAMLError:
        return None


@dataclass
class Frontmatter:
    """The parsed frontmatter: plain data plus where each key and value was written."""

    file: Path
    data: dict[str, Any]
    body: str
    key_pos: dict[KeyPath, SourcePos] = field(default_factory=dict)
    value_pos: dict[KeyPath, SourcePos] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def pos(self, path: KeyPath, *, key: bool = False) -> SourcePos:
        """Best position for `path`: the value (or key), else the nearest enclosing one."""
        table = self.key_pos if key else self.value_pos
        for end in range(len(path), 0, -1):
            found = table.get(path[:end]) or self.key_pos.get(path[:end])
            if found is not None:
                return found
        return SourcePos(file=self.file, line=1, column=1)


def parse_frontmatter(text: str, file: Path) -> Frontmatter:
    """Parse `---`-delimited YAML frontmatter at the top of `text`.

    A file without frontmatter yields empty data and the whole text as body; malformed YAML
    yields an error diagnostic at the place PyYAML reports.
    """
    lines = text.splitlines(keepends=True)
    result = Frontmatter(file=file, data={}, body=text)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return result
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip("\r\n") == "---"), None)
    if end is None:
        result.diagnostics.append(
            Diagnostic(
                pos=SourcePos(file=file, line=1, column=1),
                severity=Severity.ERROR,
                code="frontmatter-unclosed",
                message="frontmatter starts with '---' but has no closing '---' line",
            )
        )
        return result
    result.body = "".join(lines[end + 1 :])
    source = "".join(lines[1:end])
    if len(source) > MAX_FRONTMATTER:
        result.diagnostics.append(
            Diagnostic(
                pos=SourcePos(file=file, line=2, column=1),
                severity=Severity.ERROR,
                code="frontmatter-size",
                message=f"frontmatter is over {MAX_FRONTMATTER // 1024} KB: not read",
            )
        )
        return result
    _Walker(result, line_offset=1).load(source)
    return result


def _identity(line: int, column: int) -> tuple[int, int]:
    return line, column


class _Walker:
    def __init__(self, result: Frontmatter, line_offset: int) -> None:
        self.result = result
        self.line_offset = line_offset
        self.loader: yaml.SafeLoader | None = None
        self.values = 0
        self.rewrites: list[_Rewrite] = []  # the fallback's, when it was needed
        self.to_original: Callable[[int, int], tuple[int, int]] = _identity

    def _pos(self, mark: Any) -> SourcePos:
        line, column = self.to_original(mark.line, mark.column)
        return SourcePos(file=self.result.file, line=line + 1 + self.line_offset, column=column + 1)

    def _error(self, mark: Any, code: str, message: str, severity: Severity) -> None:
        self.result.diagnostics.append(
            Diagnostic(pos=self._pos(mark), severity=severity, code=code, message=message)
        )

    def _compose(self, source: str) -> Any:
        self.loader = None
        try:
            self.loader = _Loader(source)
            return self.loader.get_single_node()
        finally:
            if self.loader is not None:
                self.loader.dispose()

    def _retry(self, source: str) -> Any:
        """The node of the sanitised source, or None when nothing was rewritten or it fails
        too (then the first error stands)."""
        sanitised, rewrites = _sanitise(source)
        if not rewrites:
            return None
        try:
            node = self._compose(sanitised)
        except yaml.YAMLError:
            return None
        self.rewrites, self.to_original = rewrites, _to_original(rewrites)
        return node

    def load(self, source: str) -> None:
        try:
            node = self._compose(source)
        except yaml.YAMLError as exc:
            node = self._retry(source)
            if node is None:
                self._yaml_error(exc)
                return
        self._walk(node)
        if self.result.data:  # the walk did not stop (too many values): warn of each rewrite
            for rewrite in self.rewrites:
                self._warn(rewrite)

    def _yaml_error(self, exc: yaml.YAMLError) -> None:
        if isinstance(exc, yaml.MarkedYAMLError):
            mark = exc.problem_mark or exc.context_mark
            message = f"invalid YAML: {exc.problem or 'invalid YAML'}"
        else:
            mark, message = None, f"invalid YAML: {exc}"
        if mark is not None:
            self._error(mark, "yaml", message, Severity.ERROR)
            return
        self.result.diagnostics.append(
            Diagnostic(
                pos=SourcePos(file=self.result.file, line=1 + self.line_offset),
                severity=Severity.ERROR,
                code="yaml",
                message=message,
            )
        )

    def _warn(self, rewrite: _Rewrite) -> None:
        """The warning for a value the fallback read as text, unless plain YAML reads that line
        the same (a `model: x:free` rewritten along with the culprit)."""
        key, value = rewrite.key, rewrite.value
        flow = value[0] in "[{"
        if not flow and _read_alone(rewrite) == {key: value}:
            return
        if flow:  # quoting would keep the text, not make the list or mapping meant
            message = (
                f"the frontmatter is not valid YAML, so the value of '{key}' is read as text, "
                "not as a list or mapping, as opencode does: fix the YAML error"
            )
        elif ": " in value or value.endswith(":"):
            message = (
                f"the value of '{key}' contains ': ', which YAML reads as a new key; read as "
                "text, as opencode and Claude Code do. Quote it"
            )
        else:
            message = (
                f"the frontmatter is not valid YAML, so the value of '{key}' is read as text, "
                "as opencode and Claude Code do. Quote it"
            )
        line = rewrite.line + 1 + self.line_offset
        fix = None
        # Only when the value is the whole of what was read (no indented lines joined it).
        if not flow and self.result.data.get(key) == value:
            fix = TextFix(
                title=f"Quote the value of '{key}'",
                line=line,
                column=rewrite.column + 1,
                end_column=rewrite.column + 1 + len(value),
                new_text=_quoted(value),
            )
        self.result.diagnostics.append(
            Diagnostic(
                pos=SourcePos(file=self.result.file, line=line, column=rewrite.column + 1),
                severity=Severity.WARNING,
                code="unquoted-colon",
                message=message,
                fix=fix,
            )
        )

    def _walk(self, node: Any) -> None:
        if node is None:
            return
        if not isinstance(node, yaml.MappingNode):
            self._error(
                node.start_mark, "frontmatter-type", "frontmatter must be a mapping", Severity.ERROR
            )
            return
        try:
            value = self._value(node, ())
        except _TooLarge:
            self._error(
                node.start_mark,
                "frontmatter-size",
                f"frontmatter expands to more than {MAX_VALUES:,} values (YAML aliases?): not read",
                Severity.ERROR,
            )
            return
        assert isinstance(value, dict)
        self.result.data = value

    def _value(self, node: yaml.Node, path: KeyPath) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooLarge
        self.result.value_pos[path] = self._pos(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self._error(
                        key_node.start_mark, "key-type", "keys must be plain text", Severity.ERROR
                    )
                    continue
                key = str(key_node.value)
                child = (*path, key)
                if key in out:
                    self._error(
                        key_node.start_mark,
                        "duplicate-key",
                        f"duplicate key '{key}': the later value replaces the earlier one",
                        Severity.WARNING,
                    )
                self.result.key_pos[child] = self._pos(key_node.start_mark)
                out[key] = self._value(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, (*path, str(i))) for i, item in enumerate(node.value)]
        assert self.loader is not None
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self._error(node.start_mark, "yaml", f"invalid value: {exc}", Severity.ERROR)
            return None


def walk_yaml(result: Frontmatter, source: str, line_offset: int = 0) -> None:
    """Read YAML `source` (a frontmatter, or JSON) into `result`, with the position of every
    key and value; `line_offset` lines come before it in its file."""
    _Walker(result, line_offset).load(source)
