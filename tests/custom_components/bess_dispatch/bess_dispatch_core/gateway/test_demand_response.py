"""Demand-response events in the pure core: bounds, clashes, status, and their rank in the
dispatcher (above every schedule layer, below the manual mode and the emergency stop)."""

from datetime import UTC, datetime, timedelta

import pytest

from bess_dispatch_core.gateway.control_law import ControlSource, HardLimits, SiteState
from bess_dispatch_core.gateway.demand_response import (
    MAX_EVENTS,
    DemandResponseBook,
    DemandResponseEvent,
    EventError,
    EventKind,
    EventStatus,
)
from bess_dispatch_core.gateway.dispatcher import Dispatcher, ManualOverride
from bess_dispatch_core.protocol.command import Command, ControlMode, Priority, ScheduleEntry

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
LIMITS = HardLimits(soe_min_kwh=1.0, soe_max_kwh=9.0, max_charge_kw=5.0, max_discharge_kw=5.0)


def event(
    event_id: str = "e1",
    start: datetime = T0,
    hours: float = 1,
    kind: EventKind = EventKind.DISCHARGE,
    power: float = 2.0,
) -> DemandResponseEvent:
    return DemandResponseEvent(event_id, kind, start, start + hours * HOUR, power)


def test_status_through_an_events_life() -> None:
    e = event()
    assert e.status(T0 - HOUR) is EventStatus.SCHEDULED
    assert e.status(T0) is EventStatus.ACTIVE
    assert e.status(T0 + HOUR) is EventStatus.COMPLETED


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (event(event_id="no spaces"), "event_id"),
        (event(event_id=""), "event_id"),
        (event(power=-1), "power_kw"),
        (event(power=float("inf")), "power_kw"),
        (event(hours=0), "end"),
        (event(hours=25), "end"),
        (event(start=T0 - 3 * HOUR), "end"),
        (event(start=T0 + timedelta(days=8)), "start"),
        (DemandResponseEvent("e", EventKind.DISCHARGE, T0.replace(tzinfo=None), T0, 1), "start"),
    ],
)
def test_bad_events_are_refused_naming_the_field(bad: DemandResponseEvent, field: str) -> None:
    book = DemandResponseBook()
    with pytest.raises(EventError) as caught:
        book.add(bad, now=T0)
    assert caught.value.field == field
    assert not caught.value.conflict
    assert book.events == ()


def test_overlaps_and_duplicate_ids_are_conflicts_and_change_nothing() -> None:
    book = DemandResponseBook()
    book.add(event("a"), now=T0)
    for clash in (event("a", start=T0 + 5 * HOUR), event("b", start=T0 + HOUR / 2)):
        with pytest.raises(EventError) as caught:
            book.add(clash, now=T0)
        assert caught.value.conflict
    assert [e.event_id for e in book.events] == ["a"]
    book.add(event("c", start=T0 + HOUR), now=T0)  # back to back is fine


def test_cancel_and_the_bound_on_kept_events() -> None:
    book = DemandResponseBook()
    book.add(event("a"), now=T0)
    assert book.cancel("a", now=T0).status(T0) is EventStatus.CANCELLED
    with pytest.raises(EventError):
        book.cancel("a", now=T0)
    with pytest.raises(KeyError):
        book.cancel("zz", now=T0)
    book = DemandResponseBook()
    for i in range(MAX_EVENTS):
        book.add(event(f"e{i}", start=T0 + i * HOUR), now=T0)
    with pytest.raises(EventError) as caught:
        book.add(event("one-more", start=T0 + 100 * HOUR), now=T0)
    assert caught.value.conflict
    # Once one has ended, the oldest ended one makes room.
    later = T0 + 2 * HOUR
    book.add(event("one-more", start=T0 + 100 * HOUR), now=later)
    assert len(book.events) == MAX_EVENTS
    assert book.get("e0") is None


def test_round_trip_and_a_damaged_store() -> None:
    book = DemandResponseBook()
    book.add(event("a", kind=EventKind.REDUCE_CHARGE), now=T0)
    again = DemandResponseBook.from_list(book.to_list())
    assert again.events == book.events
    with pytest.raises(ValueError, match="invalid"):
        DemandResponseBook.from_list([{"event_id": "x"}])
    with pytest.raises(ValueError, match="list"):
        DemandResponseBook.from_list({"a": 1})


def _p2(power: float, issued: datetime) -> Command:
    return Command.create(
        command_id=f"p2-{issued.isoformat()}",
        priority=Priority.INTRADAY,
        schedule=[ScheduleEntry(T0 - HOUR, T0 + 3 * HOUR, power_kw=power)],
        now=issued,
    )


def test_an_event_outranks_schedules_but_not_the_owner_or_the_stop() -> None:
    dispatcher = Dispatcher(LIMITS)
    state = SiteState(soe_kwh=5.0)
    assert not dispatcher.offer(_p2(3.0, T0 - HOUR), now=T0 - HOUR).errors
    dispatcher.demand_response.add(event(), now=T0)
    decision = dispatcher.evaluate(T0, state).decision
    assert (decision.source, decision.setpoint_kw) == (ControlSource.DEMAND_RESPONSE, -2.0)
    # A newer p2 command does not replace the event.
    assert not dispatcher.offer(_p2(4.0, T0), now=T0).errors
    assert dispatcher.evaluate(T0, state).decision.source is ControlSource.DEMAND_RESPONSE
    dispatcher.set_override(ManualOverride(ControlMode.NO_DISCHARGE), now=T0)
    assert dispatcher.evaluate(T0, state).decision.source is ControlSource.MANUAL
    dispatcher.set_emergency_stop(True)
    assert dispatcher.evaluate(T0, state).decision.source is ControlSource.EMERGENCY_STOP
    dispatcher.set_emergency_stop(False)
    dispatcher.clear_override()
    assert dispatcher.evaluate(T0, state).decision.source is ControlSource.DEMAND_RESPONSE
    # The event's end is a boundary; afterwards the schedule is back.
    assert dispatcher.evaluate(T0, state).next_change == T0 + HOUR
    after = dispatcher.evaluate(T0 + HOUR, state).decision
    assert (after.source, after.setpoint_kw) == (ControlSource.P2, 4.0)


def test_a_reduce_charge_event_caps_charging_within_the_hard_limits() -> None:
    dispatcher = Dispatcher(LIMITS)
    dispatcher.demand_response.add(event(kind=EventKind.REDUCE_CHARGE, power=1.5), now=T0)
    decision = dispatcher.evaluate(T0, SiteState(soe_kwh=5.0)).decision
    assert decision.mode is ControlMode.LIMIT_CHARGE
    assert decision.max_charge_kw == 1.5
    # A discharge event still stops at the minimum SoE.
    dispatcher = Dispatcher(LIMITS)
    dispatcher.demand_response.add(event(), now=T0)
    assert dispatcher.evaluate(T0, SiteState(soe_kwh=1.0)).decision.setpoint_kw == 0.0


def test_stop_and_events_survive_a_restart() -> None:
    dispatcher = Dispatcher(LIMITS)
    dispatcher.demand_response.add(event(), now=T0)
    dispatcher.set_emergency_stop(True)
    restored = Dispatcher.from_dict(LIMITS, dispatcher.to_dict())
    assert restored.emergency_stop is True
    assert restored.demand_response.events == dispatcher.demand_response.events
    # A file written before these keys existed restores with neither.
    older = dispatcher.to_dict()
    del older["emergency_stop"], older["demand_response"]
    plain = Dispatcher.from_dict(LIMITS, older)
    assert plain.emergency_stop is False
    assert plain.demand_response.events == ()
