"""Split a markdown file into YAML frontmatter and body, keeping the position of every node.

PyYAML's composer gives each node a start mark; we walk the node tree ourselves so that a
problem with any key or value can be reported at its exact line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from plangate.diagnostics import Diagnostic, Severity, SourcePos

# libyaml when PyYAML was built with it: same nodes and marks, about ten times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KeyPath = tuple[str, ...]
# An agent's frontmatter is a few dozen values. YAML aliases can make a small file expand
# exponentially ("billion laughs"): reading stops past these bounds, with an error.
MAX_FRONTMATTER = 256 * 1024  # characters
MAX_VALUES = 10_000


class _TooLarge(Exception):
    pass


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


class _Walker:
    def __init__(self, result: Frontmatter, line_offset: int) -> None:
        self.result = result
        self.line_offset = line_offset
        self.loader: yaml.SafeLoader | None = None
        self.values = 0

    def _pos(self, mark: Any) -> SourcePos:
        return SourcePos(
            file=self.result.file, line=mark.line + 1 + self.line_offset, column=mark.column + 1
        )

    def _error(self, mark: Any, code: str, message: str, severity: Severity) -> None:
        self.result.diagnostics.append(
            Diagnostic(pos=self._pos(mark), severity=severity, code=code, message=message)
        )

    def load(self, source: str) -> None:
        try:
            self.loader = _Loader(source)
            node = self.loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or "invalid YAML"
            if mark is None:
                self.result.diagnostics.append(
                    Diagnostic(
                        pos=SourcePos(file=self.result.file, line=1 + self.line_offset),
                        severity=Severity.ERROR,
                        code="yaml",
                        message=f"invalid YAML: {problem}",
                    )
                )
            else:
                self._error(mark, "yaml", f"invalid YAML: {problem}", Severity.ERROR)
            return
        except yaml.YAMLError as exc:
            self.result.diagnostics.append(
                Diagnostic(
                    pos=SourcePos(file=self.result.file, line=1 + self.line_offset),
                    severity=Severity.ERROR,
                    code="yaml",
                    message=f"invalid YAML: {exc}",
                )
            )
            return
        finally:
            if self.loader is not None:
                self.loader.dispose()
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
