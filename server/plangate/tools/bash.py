"""bash: run a shell command after the permission engine has decided; sandboxed when possible,
over a copy-on-write layer whose changes are applied when it ends if the edit rules allow them."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

from pydantic import BaseModel, Field

from plangate.permissions import Action, Decision
from plangate.permissions.installs import dependency_folders
from plangate.tools.base import (
    Denied,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    workspace_relative,
)
from plangate.tools.guard import exec_guard
from plangate.tools.merge import Merged, merge
from plangate.tools.process import run_command
from plangate.tools.sandbox import Support, Unsandboxed, sandbox_for, support, unsandboxed_setting

DEFAULT_TIMEOUT = 120
MAX_TIMEOUT = 600


class BashInput(BaseModel):
    """Run a command."""

    command: str = Field(min_length=1, description="The bash command line to run")
    timeout: int = Field(
        DEFAULT_TIMEOUT, ge=1, le=MAX_TIMEOUT, description="Seconds before it is killed"
    )
    workdir: str = Field(".", description="Folder to run in, inside the workspace")
    description: str = Field("", description="Five to ten words saying what this does")


def _environment(ctx: ToolContext) -> dict[str, str]:
    # The model's own credentials never reach the commands it runs (it could print them).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ANTHROPIC") and not k.endswith("_API_KEY")
    }
    # Caches go to the private /tmp of the sandbox; optional git locks stay off so a
    # read-only .git does not fail `git status`.
    env.update(
        XDG_CACHE_HOME="/tmp/.cache",
        npm_config_cache="/tmp/.npm",
        PIP_CACHE_DIR="/tmp/.cache/pip",
        GIT_OPTIONAL_LOCKS="0",
        PAGER="cat",
        GIT_PAGER="cat",
    )
    return env


class BashTool(Tool[BashInput]):
    """Runs commands the permission engine allows (or the user approves)."""

    name = "bash"
    permission = "bash"
    Input = BashInput
    description = (
        "Run a bash command in the workspace. Denied commands are refused; significant ones "
        "are shown to the user for approval first. Output is streamed to the user; you get the "
        "head and tail (about 30,000 characters) and the path of a file with all of it. Default "
        f"timeout {DEFAULT_TIMEOUT} s, at most {MAX_TIMEOUT} s. Do not use it to read or edit "
        "files: use read, edit and write, which the user can review."
    )

    async def execute(self, params: BashInput, ctx: ToolContext) -> ToolResult:
        """Decide, ask if needed, run (sandboxed when bwrap is here), report."""
        cwd, shown_cwd = workspace_relative(ctx, params.workdir)
        if not cwd.resolve().is_relative_to(ctx.workspace.resolve()) or not cwd.is_dir():
            raise ToolError(f"workdir {shown_cwd} is not a folder inside the workspace")
        decision = ctx.policy.check_bash(params.command, str(cwd))
        if decision.action is Action.DENY:
            raise Denied(
                f"Command denied: {decision.reason}",
                kind="command",
                target=params.command,
                decision=decision,
            )
        # The first call starts bwrap to see whether it works here: not on the event loop.
        machine = await asyncio.to_thread(support, ctx.workspace)
        decision = _without_sandbox(decision, machine, ctx.workspace)
        if not await ctx.allowed(params.command, decision):
            raise ToolError(f"The user did not approve the command: {decision.reason}")
        sandbox = sandbox_for(ctx.workspace, cwd, machine, network=ctx.network)
        log_path = ctx.layout.outputs / f"{uuid.uuid4().hex[:12]}.log"
        merged = Merged()
        try:
            async with (
                ctx.watch(sandbox.layer is not None) as record,
                exec_guard(ctx.policy, sandbox, decision) as guard,
            ):
                started_ns = time.time_ns()
                completed = await run_command(
                    [*guard.prefix, "bash", "-c", params.command],
                    cwd=cwd,
                    log_path=log_path,
                    timeout=params.timeout,
                    on_output=ctx.on_output,
                    env=_environment(ctx),
                    dies_with_parent=sandbox.sandboxed,
                )
                if sandbox.layer is not None:
                    merged = await asyncio.to_thread(
                        merge,
                        sandbox.layer.upper,
                        ctx.workspace.resolve(),
                        ctx.policy,
                        started_ns=started_ns,
                        exempt=dependency_folders(params.command, str(cwd)),
                    )
                    await record(merged.applied)
        finally:
            if sandbox.layer is not None:
                await asyncio.to_thread(sandbox.layer.remove)
        status = (
            f"timed out after {params.timeout} s and was killed"
            if completed.timed_out
            else f"exit code {completed.exit_code}"
        )
        lines = [
            completed.output.rstrip("\n"),
            "",
            f"[{status}]",
            *guard.notes(),
            *merged.notes(),
        ]
        if completed.truncated:
            lines.append(
                f"[output was {completed.total_chars:,} characters; all of it is in "
                f"{_relative(log_path, ctx.workspace)}, which you can read]"
            )
        if not sandbox.sandboxed:
            lines.append(f"[{sandbox.note}]")
        return ToolResult(
            text="\n".join(lines).lstrip("\n"),
            is_error=completed.timed_out or completed.exit_code != 0,
            data={
                "command": params.command,
                "exit_code": completed.exit_code,
                "timed_out": completed.timed_out,
                "seconds": round(completed.seconds, 3),
                "output_file": str(log_path),
                "output_chars": completed.total_chars,
                "sandboxed": sandbox.sandboxed,
                "decision": decision.to_json(),
                "refused_at_run_time": guard.refused,
                "changed": [item.path for item in merged.applied],
                "discarded": [{"path": d.path, "reason": d.reason} for d in merged.discarded],
            },
        )


def _without_sandbox(decision: Decision, machine: Support, workspace: Path) -> Decision:
    """`decision` as it stands where commands run without a sandbox: anything that is not
    read-only is asked, saying why, unless the workspace opted out. Nothing then stops a
    command the rules did not foresee from writing a denied file, so the user decides."""
    if machine.usable or decision.read_only or decision.action is Action.DENY:
        return decision
    if unsandboxed_setting(workspace)[0] is Unsandboxed.ALLOW:
        return decision
    return decision.model_copy(
        update={
            "action": Action.ASK,
            "reason": f"no sandbox on this machine: {machine.problem}; {decision.reason}",
        }
    )


def _relative(path: Path, workspace: Path) -> str:
    try:
        return path.relative_to(workspace).as_posix()
    except ValueError:
        return str(path)
