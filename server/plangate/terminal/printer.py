"""The session as a readable transcript: streamed text, steps, validations, usage and cost."""

from __future__ import annotations

from typing import TextIO

from plangate.model.catalog import ModelInfo
from plangate.model.usage import Usage
from plangate.terminal.style import Style
from plangate.workflow.events import Shown
from plangate.workflow.state import SessionState


class Printer:
    """`on_event` for the engine: prints what a person at the terminal wants to see."""

    def __init__(self, out: TextIO, style: Style | None = None, show_output: bool = True) -> None:
        self.out = out
        self.style = style or Style(out)
        self.show_output = show_output
        self._in_text = False

    def _line(self, text: str) -> None:
        if self._in_text:
            self.out.write("\n")
            self._in_text = False
        print(text, file=self.out, flush=True)

    def __call__(self, event: Shown) -> None:
        """Show one event of the session."""
        kind, data = event.type, event.model_dump(mode="json")
        s = self.style
        if kind == "text":
            self.out.write(data["text"])
            self.out.flush()
            self._in_text = True
        elif kind == "thinking":  # the model's summarised thinking, set apart from its answer
            self.out.write(s(data["text"], "dim"))
            self.out.flush()
            self._in_text = True
        elif kind == "refusal":
            label = f" ({data['category']})" if data.get("category") else ""
            self._line(s(f"  the model refused{label}: {data['explanation']}", "red"))
        elif kind == "context" and data.get("elided"):
            self._line(
                s(
                    f"  cleared {len(data['elided'])} old tool result(s) to fit the context "
                    f"window ({data['before']:,} -> {data['after']:,} tokens)",
                    "dim",
                )
            )
        elif kind == "output" and self.show_output:
            self.out.write(s(data["text"], "dim"))
            self.out.flush()
            self._in_text = not data["text"].endswith("\n")
        elif kind == "retry":
            self._line(s(f"  ... {data['message']}", "yellow"))
        elif kind == "interrupted":
            self._line(s(f"  interrupted: {data['message']}", "yellow"))
        elif kind == "status":
            phase = f" (phase {data['phase']})" if data.get("phase") else ""
            reason = f": {data['reason']}" if data.get("reason") else ""
            self._line(s(f"== {data['status']}{phase}{reason}", "blue", "bold"))
        elif kind == "instructions":
            self._line(s(f"  instructions: {', '.join(data['files']) or 'none'}", "dim"))
            for note in data["notes"]:
                self._line(s(f"  {note}", "yellow"))
        elif kind == "mcp":
            if data["error"]:
                self._line(s(f"  MCP server {data['name']}: {data['error']}", "yellow"))
            else:
                listed = ", ".join(data["tools"]) or "no tools"
                self._line(s(f"  MCP server {data['name']} ({data['transport']}): {listed}", "dim"))
        elif kind == "tool_started":
            self._line(s(f"  -> {data['name']}", "cyan"))
        elif kind == "tool_result" and data.get("is_error"):
            first = data["text"].strip().splitlines()[0] if data["text"].strip() else ""
            self._line(s(f"     refused/failed: {first[:300]}", "red"))
        elif kind == "applied":
            self._line(s(f"     applied {data['path']}", "green"))
        elif kind == "checkpoint":
            self._line(
                s(f"  checkpoint before phase {data['phase']}: {data['commit'][:10]}", "dim")
            )
        elif kind == "rollback":
            text = data.get("message") or (
                f"rolled back phase {data['phase']}: {', '.join(data['paths'])}"
            )
            self._line(s(f"  {text}", "yellow"))
        elif kind == "rollback_refused":
            self._line(s(f"  {data['message']}", "red"))
        elif kind == "validation":
            self._line(
                s(f"  validation of phase {data['phase']} (attempt {data['attempt']}):", "bold")
            )
            for result in data["results"]:
                ok = result["passed"]
                counts = ""
                if result.get("passed_count") is not None or result.get("failed_count"):
                    counts = (
                        f" ({result.get('passed_count') or 0} passed, "
                        f"{result.get('failed_count') or 0} failed)"
                    )
                mark = s("PASS", "green") if ok else s("FAIL", "red")
                self._line(f"    {mark} {result['check']['command']}{counts}")

    def summary(self, state: SessionState, model: ModelInfo | None) -> None:
        """The closing lines: status, phases, usage and cost."""
        s = self.style
        self._line("")
        self._line(
            s(
                f"Session {state.id}: {state.status.value}"
                + (f" ({state.reason})" if state.reason else ""),
                "bold",
            )
        )
        if state.plan is not None:
            for index, phase in enumerate(state.plan.phases, start=1):
                status = state.phases.get(index)
                self._line(f"  phase {index} {phase.name}: {status.value if status else '-'}")
        usage: Usage = state.total_usage
        line = (
            f"  tokens: {usage.prompt_tokens:,} in ({usage.cache_read_input_tokens:,} from "
            f"cache), {usage.output_tokens:,} out"
        )
        if model is not None:
            line += f"; cost ${state.usage.cost(model):.4f} ({model.id})"
        self._line(line)
