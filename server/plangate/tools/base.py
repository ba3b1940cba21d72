"""What every tool shares: the context it runs in and the result it returns.

A tool is a pydantic input model (its JSON schema is what the model sees), a description written
for the model, and an async `run`. Tools never change files themselves: write and edit return a
proposed change that whoever holds the approvals applies (see `changes.apply_change`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from plangate.agents import Agent
from plangate.layout import Layout
from plangate.permissions import Action, Decision, Policy
from plangate.tools.ledger import ReadLedger
from plangate.tools.merge import Applied

# Asked when the permission engine answers "ask": (what is asked, the decision) -> allowed?
Confirm = Callable[[str, Decision], Awaitable[bool]]
# Receives output as it is produced: (stream name, text).
OutputSink = Callable[[str, str], None]
# Told what a command changed, where its copy-on-write layer says so exactly.
ChangeSink = Callable[[Sequence[Applied]], Awaitable[None]]
# Wraps the run of a command once it is allowed: how a session sees what the command changed.
# Its argument says whether the command will report its changes to the sink it yields (so the
# session need not compare the workspace before and after).
Watch = Callable[[bool], AbstractAsyncContextManager[ChangeSink]]


async def _refuse(_what: str, _decision: Decision) -> bool:
    return False


async def _ignore(_changes: Sequence[Applied]) -> None:
    return None


@contextlib.asynccontextmanager
async def _unwatched(_reported: bool) -> AsyncIterator[ChangeSink]:
    yield _ignore


@dataclass
class ToolContext:
    """Everything a tool may use: the workspace, its policy, and the people to ask."""

    workspace: Path
    policy: Policy
    ledger: ReadLedger = field(default_factory=ReadLedger)
    confirm: Confirm = _refuse
    on_output: OutputSink | None = None
    # Whether the current phase declared a (workspace-relative) file; None outside a phase.
    declared: Callable[[str], bool] | None = None
    # Network inside the bash sandbox; the agent's config may turn it off.
    network: bool = True
    # Entered around a command's run (not around the question before it, while the user may
    # be editing files): the session records what the agent's own command changed.
    watch: Watch = _unwatched

    @classmethod
    def for_agent(cls, agent: Agent, workspace: Path, **kwargs: Any) -> ToolContext:
        """A context with the agent's policy and sandbox settings."""
        return cls(
            workspace=workspace,
            policy=Policy(agent.permission, workspace),
            network=agent.network,
            **kwargs,
        )

    @property
    def layout(self) -> Layout:
        """PlanGate's own folder in the workspace (outputs, plans, sessions)."""
        return Layout(self.workspace)

    async def allowed(self, what: str, decision: Decision) -> bool:
        """Deny is final, allow passes, ask goes to whoever holds the approvals."""
        if decision.action is Action.DENY:
            return False
        if decision.action is Action.ALLOW:
            return True
        return await self.confirm(what, decision)


class ToolResult(BaseModel):
    """Text for the model plus structured data for the editor."""

    text: str
    is_error: bool = False
    data: dict[str, Any] = {}


class ToolError(Exception):
    """A failure the model should read (bad input, refused, not found)."""


class Denied(ToolError):
    """Refused by a deny rule: the editor marks the target with what was tried and why."""

    def __init__(self, message: str, *, kind: str, target: str, decision: Decision) -> None:
        super().__init__(message)
        self.record = {"kind": kind, "target": target, **decision.to_json()}


InputT = TypeVar("InputT", bound=BaseModel)


@functools.cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model.model_json_schema()`, built once per model: pydantic takes milliseconds to build
    one, and every model request sends the schema of every tool (on the server's event loop)."""
    return copy.deepcopy(_schema(model))


class Tool(Generic[InputT]):
    """Base class: subclasses set `name`, `description`, `Input` and implement `execute`."""

    name: ClassVar[str]
    description: ClassVar[str]
    Input: type[InputT]
    # The permission kind that governs the tool (read, edit or bash).
    permission: ClassVar[str]

    def spec(self) -> dict[str, Any]:
        """The tool as the Messages API takes it: name, description, input JSON schema."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": json_schema(self.Input),
        }

    async def run(self, raw_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Validate the input and execute; errors become results the model can read."""
        try:
            params = self.Input.model_validate(raw_input)
        except Exception as exc:  # pydantic's ValidationError, or anything odd in the input
            return ToolResult(text=f"Invalid input for {self.name}: {exc}", is_error=True)
        try:
            return await self.execute(params, ctx)
        except Denied as exc:
            return ToolResult(text=str(exc), is_error=True, data={"denied": exc.record})
        except ToolError as exc:
            return ToolResult(text=str(exc), is_error=True)
        except (OSError, UnicodeError, RuntimeError, ValueError) as exc:
            # What the file system or a file's bytes do (a symlink loop, a full disk, text that
            # is not UTF-8) is a result the model can read, never an internal error that stops
            # the session (and stops it again on every resume).
            return ToolResult(text=f"{self.name} failed: {exc}", is_error=True)

    async def execute(self, params: InputT, ctx: ToolContext) -> ToolResult:
        """Do the work; raise ToolError for failures the model should see."""
        raise NotImplementedError


def workspace_relative(ctx: ToolContext, path: str) -> tuple[Path, str]:
    """Absolute path and workspace-relative display form of a tool's path argument."""
    candidate = Path(path).expanduser()
    absolute = candidate if candidate.is_absolute() else ctx.workspace / candidate
    absolute = Path(*absolute.parts)  # drop repeated slashes
    try:
        shown = absolute.resolve(strict=False).relative_to(ctx.workspace.resolve()).as_posix()
    except ValueError:
        shown = str(absolute)
    return absolute, shown
