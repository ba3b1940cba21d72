"""Model turns: the request (context fitted, thinking kept for its own model, cache TTL), the
stream, and what follows each stop reason.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from plangate.model.context import (
    estimate_tokens,
    fit_to_window,
    usable_window,
    with_elisions,
)
from plangate.model.types import (
    ModelRequestError,
    ModelUnavailable,
    PromptTooLong,
    RetryWait,
    TextDelta,
    ThinkingDelta,
    TurnDone,
    TurnRequest,
)
from plangate.model.usage import Usage
from plangate.workflow import prompts
from plangate.workflow.approvals import question
from plangate.workflow.core import SessionCore
from plangate.workflow.events import (
    ContextManaged,
    MessageAdded,
    ModelTurned,
    PhaseChanged,
    Refused,
    RetryScheduled,
    StatusChanged,
    TextStreamed,
    ThinkingStreamed,
)
from plangate.workflow.phases import workflow_tools
from plangate.workflow.state import PhaseStatus, Status

MAX_NUDGES = 2


MAX_CONTEXT_RETRIES = 2


MAX_TRUNCATIONS = 3  # cut answers in a row before the session stops spending on them


THINKING = ("thinking", "redacted_thinking")


class Turns(SessionCore):
    """The model's side of the conversation."""

    def _system(self) -> str:
        return self.agent.prompt + self.state.instructions + prompts.RULES

    def _tool_specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self.tools.values()] + workflow_tools()

    def _request(self) -> TurnRequest:
        """The next request: the conversation as the API must see it.

        Tool results the context manager cleared are replaced by a note, and thinking
        blocks written by another model (the agent's model changed) are dropped, as the
        thinking docs require; the conversation's cache TTL follows who answers."""
        state = self.state
        messages = with_elisions(state.messages, state.elided)
        model_id = self.model.id if self.model else state.model
        messages = [
            _without_thinking(m)
            if m["role"] == "assistant" and state.producers.get(i, model_id) != model_id
            else m
            for i, m in enumerate(messages)
        ]
        ttl: Literal["5m", "1h"] = "1h" if self.approvals.person else "5m"
        return TurnRequest(self._system(), messages, self._tool_specs(), ttl)

    async def _fit(self, request: TurnRequest) -> TurnRequest:
        """The request, with old tool results cleared first if it nears the window."""
        state = self.state
        if self.model is None:
            return request
        sent = len(json.dumps(request.messages))
        estimate = (
            state.last_prompt_tokens + (sent - state.last_prompt_chars) // 4
            if state.last_prompt_tokens
            else estimate_tokens([request.system, request.tools, request.messages])
        )
        usable = usable_window(self.model.context_window, self.model.max_output)
        fit = await fit_to_window(
            request, self.provider, usable, estimate, force=state.context_exceeded > 0
        )
        if not fit.elided and not state.context_exceeded:
            return request
        self._emit(ContextManaged(elided=fit.elided, before=fit.before, after=fit.after))
        return self._request()

    async def _model_turn(self) -> None:
        state = self.state
        if state.messages and state.messages[-1]["role"] == "assistant":
            # A turn recorded just before a restart: follow it up, never send it as prefill.
            self._follow_up(TurnDone(state.messages[-1], state.last_stop_reason, Usage()))
            return
        if self.agent.steps is not None and state.turns >= self.agent.steps:
            answer = await self._ask(
                question(
                    "limit",
                    self._question_id(f"steps:{state.turns}"),
                    f"The agent has used its {self.agent.steps} steps. Continue?",
                )
            )
            if answer.choice == "stop":
                self.pause(f"step limit of {self.agent.steps} model turns reached")
                return
        if self.budget_usd is not None and self.model is not None:
            spent = state.usage.cost(self.model)
            if spent >= self.budget_usd:
                self.pause(f"budget of ${self.budget_usd:.2f} reached (${spent:.2f} spent)")
                return
        done: TurnDone | None = None
        try:
            request = await self._fit(self._request())
            async for event in self.provider.stream_turn(request):
                if isinstance(event, TextDelta):
                    self.on_event(TextStreamed(text=event.text))
                elif isinstance(event, ThinkingDelta):
                    self.on_event(ThinkingStreamed(text=event.text))
                elif isinstance(event, RetryWait):
                    self.on_event(RetryScheduled(message=event.message, delay=event.delay))
                elif isinstance(event, TurnDone):
                    done = event
        except ModelUnavailable as exc:
            self.pause(str(exc))
            return
        except PromptTooLong as exc:
            self._context_exceeded(str(exc), Usage())
            return
        except ModelRequestError as exc:
            self._emit(StatusChanged(status=Status.FAILED, reason=str(exc)))
            return
        assert done is not None
        if done.stop_reason == "model_context_window_exceeded":
            self._context_exceeded("the model's context window was exceeded", done.usage)
            return
        if done.stop_reason == "refusal":
            self._refused(done)
            return
        content = _kept_content(done.message["content"])
        self._emit(
            ModelTurned(
                message={"role": "assistant", "content": content},
                usage=done.usage,
                stop_reason=done.stop_reason,
                model=self.model.id if self.model else state.model,
                prompt_chars=len(json.dumps(request.messages)),
            )
        )
        self._follow_up(done)

    def _context_exceeded(self, why: str, usage: Usage) -> None:
        """The prompt did not fit: nothing of the turn is kept (a cut-off tool call never
        runs); the next turn clears old tool results first. Pauses if clearing cannot help."""
        if self.state.context_exceeded >= MAX_CONTEXT_RETRIES:
            self.pause(f"{why}, and clearing old tool results did not help")
            return
        self._emit(ContextManaged(exceeded=why, usage=usage))

    def _refused(self, done: TurnDone) -> None:
        """The model declined: the user sees why, and the session waits for them."""
        details = done.stop_details or {}
        category = details.get("category")
        explanation = details.get("explanation") or done.text.strip()[:300]
        self._emit(Refused(category=category, explanation=explanation))
        label = f" ({category})" if category else ""
        self.pause(
            f"the model refused{label}: {explanation or 'no explanation given'}. "
            "Change the task or the plan, then resume or cancel."
        )

    def _follow_up(self, done: TurnDone) -> None:
        """What comes after a recorded turn that called no tools."""
        if done.truncated and self.state.truncations >= MAX_TRUNCATIONS:
            self.pause(
                f"the model's answers were cut by the output limit {MAX_TRUNCATIONS} times in a row"
            )
        elif done.truncated:
            self._user(prompts.cut_off(done.stop_reason == "max_tokens" and not done.tool_calls))
        elif not done.tool_calls:
            self._no_tool_calls(done)

    def _no_tool_calls(self, done: TurnDone) -> None:
        """The model ended its turn without calling a tool."""
        state = self.state
        if state.status is Status.ANALYSING:
            nudges = sum(
                1
                for q in state.messages
                if q["role"] == "user"
                and any(prompts.PROPOSE_PLAN_NUDGE in b.get("text", "") for b in q["content"])
            )
            if nudges >= MAX_NUDGES:
                self._emit(
                    StatusChanged(status=Status.FAILED, reason="the model did not propose a plan")
                )
            else:
                self._user(prompts.PROPOSE_PLAN_NUDGE)
        else:  # a phase's work ended in text: treat it as the phase's completion
            self._emit(
                PhaseChanged(
                    index=state.phase,
                    status=PhaseStatus.VALIDATING,
                    summary=done.text[:2000],
                )
            )
            self._emit(StatusChanged(status=Status.VALIDATING, phase=state.phase))

    def _send_results(self) -> None:
        blocks = []
        for call in self.state.last_tool_calls:
            result = self.state.results[call.id]
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": call.id,
                "content": result["text"] or "(no output)",
            }
            if result.get("images"):
                block["content"] = [
                    {"type": "text", "text": block["content"]},
                    *(
                        {"type": "image", "source": {"type": "base64", **image}}
                        for image in result["images"]
                    ),
                ]
            if result["is_error"]:
                block["is_error"] = True
            blocks.append(block)
        self._emit(MessageAdded(role="user", content=blocks))


def _without_thinking(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "content": [b for b in message["content"] if b["type"] not in THINKING]}


def _kept_content(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What of a turn enters the conversation: thinking only beside text or a tool call."""
    if all(b["type"] in THINKING for b in content):
        return []
    return content
