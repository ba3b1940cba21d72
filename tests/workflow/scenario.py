"""A small backend task, scripted: a workspace with a bug, and a model that fixes it.

The model's turns are chosen from the conversation itself (not a counter), so a session
killed and resumed gets the same answers for the same conversation.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from plangate.model.anthropic import AnthropicProvider, RetryPolicy
from plangate.model.factory import provider_for
from plangate.model.scripted import ScriptedTurn, ToolUse
from plangate.model.types import Thinking

APP = "def add(a, b):\n    return a - b\n"
CHECK = (
    "import unittest\n\nfrom app import add\n\n\nclass T(unittest.TestCase):\n"
    "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
)


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def provider(
    base_url: str, model: str = "claude-sonnet-4-6", thinking: Thinking | None = None
) -> AnthropicProvider:
    """The real provider on the scripted server, retrying twice without waiting."""
    return provider_for(
        model,
        api_key="offline",
        base_url=base_url,
        thinking=thinking,
        retry=RetryPolicy(max_attempts=2, sleep=_no_wait),
    )


def make_workspace(root: Path) -> Path:
    """The sample project: app.py (buggy), its check, and the validation command."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(APP)
    (root / "check_app.py").write_text(CHECK)
    (root / ".plangate").mkdir(exist_ok=True)
    (root / ".plangate" / "config.toml").write_text(
        'validate = ["python3 -m unittest -q check_app"]\n'
    )
    return root


def plan_input(
    title: str = "Fix add()",
    phases: int = 1,
    files: tuple[str, ...] = ("app.py",),
    commands: tuple[str, ...] = ("echo fixed >> CHANGES.txt",),
) -> dict[str, Any]:
    """A valid propose_plan input with `phases` implementation phases, each declaring `files`
    and `commands` (by default what `happy_path` does in phase 1)."""
    return {
        "title": title,
        "summary": "add() subtracts; make it add.",
        "analysis": {"requirements": ["add(2, 3) == 5"], "security": ["none"]},
        "phases": [
            {
                "name": "API fix" if i == 1 else f"Extra {i}",
                "goal": "Correct the arithmetic",
                "steps": ["Edit app.py"],
                "files": list(files),
                "commands": list(commands),
                "acceptance_criteria": ["check_app passes"],
            }
            for i in range(1, phases + 1)
        ],
    }


def tool_results(body: dict[str, Any]) -> list[str]:
    """Texts of every tool result the model has been sent."""
    texts: list[str] = []
    for message in body["messages"]:
        if message["role"] == "user" and isinstance(message["content"], list):
            texts += [
                str(b.get("content")) for b in message["content"] if b.get("type") == "tool_result"
            ]
    return texts


def assistant_turns(body: dict[str, Any]) -> int:
    return sum(1 for m in body["messages"] if m["role"] == "assistant")


class Model:
    """The scripted model for the happy path; `steps` can be replaced per scenario."""

    def __init__(self, steps: list[ScriptedTurn] | None = None) -> None:
        self.steps = steps or happy_path()

    def __call__(self, body: dict[str, Any]) -> ScriptedTurn:
        index = assistant_turns(body)
        if index < len(self.steps):
            return self.steps[index]
        return ScriptedTurn(text="All done.")


def happy_path() -> list[ScriptedTurn]:
    """Read, plan, fix (one edit, one command), complete, document, complete."""
    return [
        ScriptedTurn(
            text="Reading the code.",
            tool_calls=[ToolUse("read", {"file_path": "app.py"}, id="t-read")],
        ),
        ScriptedTurn(
            text="Here is my plan.", tool_calls=[ToolUse("propose_plan", plan_input(), id="t-plan")]
        ),
        ScriptedTurn(
            text="Fixing.",
            tool_calls=[
                ToolUse(
                    "edit",
                    {"file_path": "app.py", "old_string": "a - b", "new_string": "a + b"},
                    id="t-edit",
                )
            ],
        ),
        ScriptedTurn(
            text="Recording the change.",
            tool_calls=[ToolUse("bash", {"command": "echo fixed >> CHANGES.txt"}, id="t-log")],
        ),
        ScriptedTurn(
            tool_calls=[ToolUse("complete_phase", {"summary": "add() adds"}, id="t-done1")]
        ),
        ScriptedTurn(
            text="Documenting.",
            tool_calls=[
                ToolUse(
                    "write",
                    {
                        "file_path": "docs/api.md",
                        "content": "# API\n\n`add(a, b)` returns the sum.\n",
                    },
                    id="t-docs",
                )
            ],
        ),
        ScriptedTurn(
            tool_calls=[ToolUse("complete_phase", {"summary": "documented"}, id="t-done2")]
        ),
        ScriptedTurn(text="Everything is done."),
    ]
