"""An editor that never answers a prompt (eglot, its prompt unwound by a reply that came in
while it was open) does not hang the session: after the bound it pauses, saying so, and Resume
asks again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plangate.model.scripted import ScriptedServer, ScriptedTurn, ToolUse
from tests.lsp.bare import NO_ANSWER, Editor, yes
from tests.workflow.scenario import Model, make_workspace, plan_input


def test_an_unanswered_prompt_pauses_the_session_and_resume_asks_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANGATE_ANSWER_TIMEOUT", "1")
    workspace = make_workspace(tmp_path / "ws").resolve()
    (workspace / ".plangate" / "config.toml").write_text('validate = ["true"]\n')
    steps = [
        ScriptedTurn(
            tool_calls=[
                ToolUse("propose_plan", plan_input(commands=("touch made.txt",)), id="t-plan")
            ]
        ),
        # Not read-only, named by no rule: the user is asked, with a message request.
        ScriptedTurn(tool_calls=[ToolUse("bash", {"command": "touch made.txt"}, id="t-touch")]),
        ScriptedTurn(tool_calls=[ToolUse("complete_phase", {"summary": "done"}, id="t-done")]),
    ]
    prompts: list[dict[str, Any]] = []
    lose = [True]

    def answer(message: dict[str, Any]) -> Any:
        if message["method"] != "window/showMessageRequest":
            return yes(message)
        prompts.append(message)
        return NO_ANSWER if lose[0] else yes(message)

    with ScriptedServer(Model(steps)) as scripted:
        editor = Editor(workspace, scripted.base_url, tmp_path / "server.log", answer=answer)
        try:
            session_id = editor.start_phase_1("Make a file")
            paused = editor.until(session_id, lambda s: s["status"] == "paused")
            assert paused["reason"].startswith(
                "the editor did not answer within 1 s: Allow `touch made.txt`?"
            ), paused
            assert paused["reason"].endswith("Resume to be asked again.")
            assert len(prompts) == 1 and not (workspace / "made.txt").exists()
            lose[0] = False
            editor.request("plangate/resume", {"sessionId": session_id})
            editor.until(session_id, lambda s: (s["pending"] or {}).get("phase") == 2)
            assert len(prompts) == 2 and (workspace / "made.txt").exists()
        finally:
            editor.close()
