"""The adversarial corpus, run through the real CLI (`plangate permissions check --jsonl`).

bash.jsonl: every `deny` case denied, every `allow` case allowed, every `ask` case asked,
every `not_allow` (unanalysable) case asked or denied. paths.jsonl: exact actions, with
symlinks and files created in a fresh workspace for the cases that need them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
PLANGATE = [sys.executable, "-m", "plangate.cli"]


def _load(name: str) -> list[dict[str, Any]]:
    with (HERE / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _ask_cli(workspace: Path, requests: list[dict[str, str]]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [
            *PLANGATE,
            "permissions",
            "check",
            "--agent",
            "backend-developer",
            "--workspace",
            str(workspace),
            "--jsonl",
        ],
        input="".join(json.dumps(r) + "\n" for r in requests),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len(answers) == len(requests), completed.stderr
    return answers


def _ok(expect: str, action: str) -> bool:
    return action != "allow" if expect == "not_allow" else action == expect


def test_bash_corpus(workspace: Path) -> None:
    cases = _load("bash.jsonl")
    counts = Counter(case["expect"] for case in cases)
    assert len(cases) >= 150 and counts["deny"] >= 100 and counts["allow"] >= 30
    answers = _ask_cli(workspace, [{"bash": case["bash"]} for case in cases])
    wrong = [
        f"{case['expect']:9} got {answer['action']:5} {case['bash']!r}: {answer['reason']}"
        for case, answer in zip(cases, answers, strict=True)
        if not _ok(case["expect"], answer["action"])
    ]
    assert not wrong, "\n".join(wrong)


def _setup(workspace: Path, steps: list[dict[str, str]]) -> None:
    for step in steps:
        if "dir" in step:
            (workspace / step["dir"]).mkdir(parents=True, exist_ok=True)
        elif "file" in step:
            target = workspace / step["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x\n")
        elif "symlink" in step:
            link = workspace / step["symlink"]
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(step["target"], link)


PATH_CASES = _load("paths.jsonl")
_PLAIN = [c for c in PATH_CASES if not c.get("setup")]
_WITH_SETUP = [c for c in PATH_CASES if c.get("setup")]


def _request(case: dict[str, Any], workspace: Path) -> dict[str, str]:
    kind = "edit" if "edit" in case else "read"
    return {kind: case[kind].replace("{ws}", str(workspace))}


def test_path_corpus(workspace: Path) -> None:
    """Cases that need no files on disk, in one CLI run."""
    assert len(PATH_CASES) >= 40
    answers = _ask_cli(workspace, [_request(case, workspace) for case in _PLAIN])
    wrong = [
        f"{case['expect']:5} got {answer['action']:5} {_request(case, workspace)}: "
        f"{answer['reason']}"
        for case, answer in zip(_PLAIN, answers, strict=True)
        if answer["action"] != case["expect"]
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "case", _WITH_SETUP, ids=[str(c.get("edit") or c.get("read")) for c in _WITH_SETUP]
)
def test_path_case_on_disk(case: dict[str, Any], tmp_path: Path) -> None:
    """Symlink cases: each in a fresh workspace laid out as the case says."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    _setup(workspace, case["setup"])
    [answer] = _ask_cli(workspace, [_request(case, workspace)])
    assert answer["action"] == case["expect"], answer["reason"]
