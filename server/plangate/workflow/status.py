"""Where a session and its phases are."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a session is."""

    ANALYSING = "analysing"
    PLAN_PROPOSED = "plan proposed"
    AWAITING_PHASE = "awaiting phase approval"
    RUNNING = "running"
    VALIDATING = "validating"
    DOCUMENTING = "documenting"
    COMPLETED = "completed"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FAILED = "failed"


TERMINAL = frozenset({Status.COMPLETED, Status.CANCELLED, Status.FAILED})


class PhaseStatus(StrEnum):
    """Where a phase is."""

    PENDING = "pending"
    AWAITING = "awaiting approval"
    RUNNING = "running"
    VALIDATING = "validating"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    ROLLED_BACK = "rolled back"
