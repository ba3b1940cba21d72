"""What the agent itself changed in a phase, recorded so that a rollback undoes that and only that.

Two ways the agent changes files: an edit the user accepted (its base and the file after it are
known), and a command of its own, whose effect is the difference between the workspace just
before and just after it runs (two trees of the checkpoint store, cheap because the store's
index is a stat cache). Each lands in the log as an `AgentChanged` event, so the record survives
restarts. What the user (or anyone else) changes in between is never in it.

Known blind spots, all on the side of leaving files alone rather than losing work: a command
killed with the server is not recorded; a change the user saves while an agent's command runs
counts as the command's; a command touching only excluded paths (`.git`, `node_modules/`, ...)
records nothing there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from plangate.tools.base import Watch
from plangate.tools.changes import ChangeKind, ProposedChange
from plangate.workflow.checkpoints import CheckpointError, PathChange, content_hash
from plangate.workflow.core import SessionCore
from plangate.workflow.events import AgentChanged
from plangate.workflow.state import Status

log = logging.getLogger(__name__)


class Tracking(SessionCore):
    """Records the agent's own changes in the running phase."""

    def _tracked_phase(self) -> int | None:
        """The phase whose changes are being recorded now: a running one with a checkpoint."""
        state = self.state
        if state.status in (Status.RUNNING, Status.DOCUMENTING) and state.phase in (
            state.checkpoints
        ):
            return state.phase
        return None

    def _relative(self, path: str) -> str | None:
        """`path` as the store names it (resolved, workspace-relative); None if outside."""
        resolved = (self.workspace / path).resolve()
        if not resolved.is_relative_to(self.workspace) or resolved == self.workspace:
            return None
        return resolved.relative_to(self.workspace).as_posix()

    def _track_edit(self, call_id: str, change: ProposedChange) -> None:
        """Record an accepted edit of the agent, once per call (again after a restart is a
        no-op). Before is the content it was proposed against; after, the file now."""
        phase = self._tracked_phase()
        if phase is None or call_id not in self.state.applied or call_id in self.state.tracked:
            return
        before = change.base.sha256 if change.base is not None else None
        source = self._relative(change.path)
        changes: list[PathChange] = []
        if change.kind is ChangeKind.RENAME:
            target = self._relative(change.new_path or change.path)
            if source is not None:
                changes.append(PathChange(path=source, before=before, after=None))
            if target is not None:
                after = content_hash(self.workspace / target)
                changes.append(PathChange(path=target, before=None, after=after))
        elif source is not None:
            after = content_hash(self.workspace / source)
            changes.append(PathChange(path=source, before=before, after=after))
        if changes:
            self._emit(AgentChanged(id=call_id, phase=phase, changes=changes))

    def _watch(self, call_id: str) -> Watch:
        """For the bash tool: record what the agent's command `call_id` changed."""

        @contextlib.asynccontextmanager
        async def watch() -> AsyncIterator[None]:
            phase = self._tracked_phase()
            before = None
            if phase is not None and call_id not in self.state.tracked:
                before = await self._tree()
            try:
                yield
            finally:
                if phase is not None and before is not None:
                    await self._record_command(call_id, phase, before)

        return watch

    async def _tree(self) -> str | None:
        # git takes a while on big trees: off the event loop (an editor's server).
        try:
            return await asyncio.to_thread(self.checkpoints.tree)
        except CheckpointError as exc:
            # Unrecorded, a command's changes stay put on rollback: nothing is lost.
            log.warning("cannot see what a command changes: %s", exc)
            return None

    async def _record_command(self, call_id: str, phase: int, before: str) -> None:
        after = await self._tree()
        if after is None:
            return
        try:
            changes = await asyncio.to_thread(self.checkpoints.changes, before, after)
        except CheckpointError as exc:
            log.warning("cannot see what a command changed: %s", exc)
            return
        if changes:
            self._emit(AgentChanged(id=call_id, phase=phase, changes=changes))
