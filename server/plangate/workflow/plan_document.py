"""Reading a plan document back: the Markdown `render_markdown` writes, as reviewed (and
perhaps edited) in a pull request, is the plan `plangate run --plan FILE --approved` runs.

What is read is what a reviewer sees: the visible text, section by section. A document that
does not have the shape of a plan is an error naming its line, never a guess.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from plangate.workflow.plan import Plan

_PHASE = re.compile(r"^## Phase (\d+): (.+)$")
_LABEL = re.compile(r"^\*\*(.+)\*\*$")
_ITEM = re.compile(r"^- (.*)$")
_STEP = re.compile(r"^\d+\. (.*)$")
_CODE = re.compile(r"^`(.*)`$")
# `criterion (test `x`; file `y`)` or `criterion (not checked)`.
_HOW = re.compile(
    r"^(?P<criterion>.*) \((?P<how>not checked|[a-z]+ `[^`]*`(?:; [a-z]+ `[^`]*`)*)\)$"
)
_CHECK = re.compile(r"([a-z]+) `([^`]*)`")
ANALYSIS = {
    "Requirements": "requirements",
    "Schema and relationships": "schema_and_relationships",
    "Performance": "performance",
    "Security": "security",
}
PHASE_LISTS = {
    "Files": "files",
    "Migrations": "migrations",
    "Commands": "commands",
    "Acceptance criteria": "acceptance_criteria",
}


class PlanDocumentError(ValueError):
    """The document is not a plan: what is wrong, and on which line (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def parse_plan(text: str) -> Plan:
    """The plan a plan document describes; PlanDocumentError when it is not one."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise PlanDocumentError(1, "a plan document starts with '# <title>'")
    data: dict[str, Any] = {"title": lines[0][2:].strip(), "analysis": {}, "phases": []}
    summary: list[str] = []
    section, target, label = "summary", data, ""
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip()
        if not line:
            continue
        phase = _PHASE.match(line)
        if phase:
            if int(phase.group(1)) != len(data["phases"]) + 1:
                raise PlanDocumentError(number, f"expected phase {len(data['phases']) + 1} here")
            target = {"name": phase.group(2).strip(), "steps": [], "checks": []}
            data["phases"].append(target)
            section, label = "phase", ""
        elif line == "## Analysis":
            section, label = "analysis", ""
        elif line in ("## Risks", "## Open questions"):
            section, label = ("risks" if line == "## Risks" else "open_questions"), ""
            data[section] = []
        elif line.startswith("#"):
            raise PlanDocumentError(number, f"'{line}' is no section of a plan")
        elif section == "summary":
            summary.append(line)
        elif _LABEL.match(line):
            label = _LABEL.match(line).group(1)  # type: ignore[union-attr]
        else:
            _content(data, target, section, label, line, number)
    data["summary"] = "\n".join(summary)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PlanDocumentError(1, f"not a valid plan: {problems}") from exc


def _content(
    data: dict[str, Any],
    phase: dict[str, Any],
    section: str,
    label: str,
    line: str,
    number: int,
) -> None:
    """One line of content, where the document is."""
    item = _ITEM.match(line)
    if section in ("risks", "open_questions") and item:
        data[section].append(item.group(1))
    elif section == "analysis" and item and label in ANALYSIS:
        data["analysis"].setdefault(ANALYSIS[label], []).append(item.group(1))
    elif section == "phase" and line.startswith("Goal: ") and not label:
        phase["goal"] = line.removeprefix("Goal: ")
    elif section == "phase" and _STEP.match(line) and not label:
        phase["steps"].append(_STEP.match(line).group(1))  # type: ignore[union-attr]
    elif section == "phase" and item and label in PHASE_LISTS:
        value = item.group(1)
        key = PHASE_LISTS[label]
        if key in ("files", "commands"):
            code = _CODE.match(value)
            value = code.group(1) if code else value
        elif key == "acceptance_criteria":
            value = _criterion(phase, value)
        phase.setdefault(key, []).append(value)
    else:
        raise PlanDocumentError(number, f"'{line[:60]}' does not belong here in a plan")


def _criterion(phase: dict[str, Any], text: str) -> str:
    """The criterion of an acceptance line; its checks added to the phase's."""
    how = _HOW.match(text)
    if how is None:
        return text  # written without a check: not checked
    criterion = how.group("criterion")
    for kind, target in _CHECK.findall(how.group("how")):
        phase["checks"].append({"criterion": criterion, "kind": kind, "target": target})
    return criterion
