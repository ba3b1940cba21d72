"""What the agent itself changed in a phase, recorded so that a rollback undoes that and only that.

Two ways the agent changes files: an edit the user accepted (its base and the file after it are
known), and a command of its own: what its copy-on-write layer applied (tools/merge.py), or,
where commands run without a sandbox, the difference between the workspace just before and
just after it runs (two trees of the checkpoint store, cheap because the store's index is a
stat cache). Each lands in the log as an `AgentChanged` event, so the record survives
restarts. What the user (or anyone else) changes in between is never in it.

Known blind spots, all on the side of leaving files alone rather than losing work: without a
sandbox, a command killed with the server is not recorded, and a change the user saves while an
agent's command runs counts as the command's (with one, neither happens: a killed command's
layer is never applied, and a file changed meanwhile keeps the user's version); a change to a
path checkpoints leave out (`.git`, `node_modules/`, ignored files) is not recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from plangate.tools.base import ChangeSink, Watch
from plangate.tools.changes import ChangeKind, ProposedChange
from plangate.tools.merge import Applied
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
        """For the bash tool: record what the agent's command `call_id` changed, as its
        copy-on-write layer reports it or else from the workspace before and after."""

        @contextlib.asynccontextmanager
        async def watch(reported: bool) -> AsyncIterator[ChangeSink]:
            phase = self._tracked_phase()
            recording = phase is not None and call_id not in self.state.tracked

            async def record(applied: Sequence[Applied]) -> None:
                if recording and phase is not None and applied:
                    await self._record_applied(call_id, phase, applied)

            if reported:
                yield record
                return
            before = await self._tree() if recording else None
            try:
                yield record
            finally:
                if phase is not None and before is not None:
                    await self._record_command(call_id, phase, before)

        return watch

    async def _record_applied(self, call_id: str, phase: int, applied: Sequence[Applied]) -> None:
        """Record what a command's copy-on-write layer applied, but for the paths checkpoints
        leave out (`node_modules/`, ignored files): a rollback could not put those back."""
        try:
            left_out = await asyncio.to_thread(
                self.checkpoints.left_out, [item.path for item in applied]
            )
        except CheckpointError as exc:
            log.warning("cannot see what a command changed: %s", exc)
            return
        changes = [
            PathChange(path=item.path, before=item.before, after=item.after)
            for item in applied
            if item.path not in left_out
        ]
        if changes:
            self._emit(AgentChanged(id=call_id, phase=phase, changes=changes))

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
