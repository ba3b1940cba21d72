"""Other scripted models for the VS Code e2e, on the demo's project and plan: they differ from the
demo in phase 1 only (model_server.py --script NAME).

- `ten-edits`: phase 1 makes ten edits in a row to app/db.py, each on the last one's text;
- `failing-check`: phase 1 breaks a test and completes the phase anyway, every time it is told
  validation failed, so the user has to decide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plangate.demo.script import STEPS
from plangate.model.scripted import ScriptedTurn, ToolUse

# The demo's steps up to and including the plan: list, reads, grep, propose_plan.
BEFORE_PHASE_1 = STEPS[:4]
NOTE = "# priority note {n}\n"


def _edit(old: str, new: str, id: str) -> ToolUse:
    return ToolUse("edit", {"file_path": "app/db.py", "old_string": old, "new_string": new}, id=id)


def _complete(id: str) -> ScriptedTurn:
    return ScriptedTurn(
        tool_calls=[ToolUse("complete_phase", {"summary": "Phase 1 is done."}, id=id)]
    )


TEN_EDITS = [
    *BEFORE_PHASE_1,
    ScriptedTurn(
        tool_calls=[_edit("import sqlite3\n", "import sqlite3\n" + NOTE.format(n=1), "e-1")]
    ),
    *(
        ScriptedTurn(
            tool_calls=[
                _edit(NOTE.format(n=n - 1), NOTE.format(n=n - 1) + NOTE.format(n=n), f"e-{n}")
            ]
        )
        for n in range(2, 11)
    ),
    _complete("e-done"),
    ScriptedTurn(text="Waiting for phase 2."),
]

FAILING_CHECK = [
    *BEFORE_PHASE_1,
    # Rows become tuples: the API's tests, which read rows by name, fail.
    ScriptedTurn(tool_calls=[_edit("    conn.row_factory = sqlite3.Row\n", "", "f-break")]),
    _complete("f-done"),  # repeated: every failed validation gets the same answer
]


def _by_turn(steps: list[ScriptedTurn]) -> Callable[[dict[str, Any]], ScriptedTurn]:
    def model(body: dict[str, Any]) -> ScriptedTurn:
        taken = sum(1 for message in body["messages"] if message["role"] == "assistant")
        turn = steps[min(taken, len(steps) - 1)]
        # A repeated call needs an id of its own.
        return ScriptedTurn(
            text=turn.text,
            tool_calls=[
                ToolUse(call.name, call.input, id=f"{call.id}-{taken}") for call in turn.tool_calls
            ],
        )

    return model


SCRIPTS: dict[str, Callable[[dict[str, Any]], ScriptedTurn]] = {
    "ten-edits": _by_turn(TEN_EDITS),
    "failing-check": _by_turn(FAILING_CHECK),
}
