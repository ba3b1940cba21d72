"""Typed events: a log written before events were typed still replays, and every event
round-trips through its model unchanged."""

from __future__ import annotations

from pathlib import Path

from plangate.workflow.events import Denied, ModelTurned, StatusChanged
from plangate.workflow.log import EventLog, LoggedEvent
from plangate.workflow.state import PhaseStatus, Status, replay

# Written by PlanGate just before events were typed (commit 47aec42): the happy path with a
# denied write to .env in phase 1.
OLD_LOG = Path(__file__).parent / "data" / "events-v1.jsonl"


def test_a_log_written_by_the_previous_version_replays(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_bytes(OLD_LOG.read_bytes())
    events = EventLog(log).read()
    assert len(events) == len(OLD_LOG.read_text().splitlines())
    state = replay(events)
    assert state.status is Status.COMPLETED and state.reason == "every phase is done"
    assert state.phases == {1: PhaseStatus.DONE, 2: PhaseStatus.DONE}
    assert state.turns == 8 and state.plan is not None and state.plan.title == "Fix add()"
    assert len(state.questions) == len(state.answers) == 8
    assert "t-env" in state.results and state.results["t-env"]["is_error"]
    typed = [e.event for e in events]
    assert any(isinstance(e, Denied) and e.target == ".env" for e in typed)
    assert sum(isinstance(e, ModelTurned) for e in typed) == 8


def test_every_event_round_trips_through_its_model() -> None:
    for line in OLD_LOG.read_text().splitlines():
        logged = LoggedEvent.model_validate_json(line)
        again = logged.event.model_dump(mode="json", exclude={"type"})
        for key, value in logged.data.items():  # nothing on disk is lost or changed
            assert again[key] == value, (logged.type, key)


def test_new_events_are_written_in_the_same_shape(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.append(StatusChanged(status=Status.PAUSED, reason="lunch"))
    [logged] = EventLog(tmp_path / "events.jsonl").read()
    assert logged.type == "status" and logged.data["reason"] == "lunch"
    assert logged.event == StatusChanged(status=Status.PAUSED, reason="lunch")
