"""The dispatcher: commands in, responses and decisions out, across a simulated day."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bess_dispatch_core.gateway.control_law import ControlSource, HardLimits, SiteState
from bess_dispatch_core.gateway.dispatcher import Dispatcher, ManualOverride, read_command
from bess_dispatch_core.protocol.command import Command, ControlMode, Priority, ScheduleEntry
from bess_dispatch_core.protocol.errors import ErrorCode
from bess_dispatch_core.protocol.responses import ResponseStatus

LIMITS = HardLimits(soe_min_kwh=1.0, soe_max_kwh=9.0, max_charge_kw=5.0, max_discharge_kw=5.0)
T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)
MID_SOE = SiteState(soe_kwh=5.0)


def layer(
    priority: Priority, start: datetime, slots: int, power_kw: float, issued: datetime
) -> Command:
    entries = [
        ScheduleEntry(start + i * HALF_HOUR, start + (i + 1) * HALF_HOUR, power_kw=power_kw)
        for i in range(slots)
    ]
    return Command.create(
        command_id=f"p{int(priority)}-{start.isoformat()}-{issued.isoformat()}",
        priority=priority,
        schedule=entries,
        now=issued,
    )


def test_accepts_a_valid_command_and_answers_in_reply_to_it() -> None:
    dispatcher = Dispatcher(LIMITS)
    command = layer(Priority.INTRADAY, T0, 6, -2.0, T0)
    response = dispatcher.receive(command.to_payload(), now=T0)
    assert response.status is ResponseStatus.ACCEPTED
    assert (response.in_reply_to, response.command_id) == (
        command.envelope.message_id,
        command.command_id,
    )
    state = dispatcher.evaluate(T0, MID_SOE)
    assert (state.decision.mode, state.decision.setpoint_kw) == (ControlMode.SETPOINT, -2.0)
    assert state.decision.source is ControlSource.P2
    assert state.following_schedule
    assert state.next_change == T0 + HALF_HOUR
    assert state.horizon_end == T0 + 6 * HALF_HOUR


def test_a_rejected_command_changes_nothing() -> None:
    dispatcher = Dispatcher(LIMITS)
    good = layer(Priority.DAY_AHEAD, T0, 4, 1.0, T0)
    dispatcher.receive(good.to_payload(), now=T0)
    before = dispatcher.to_dict()
    broken = good.to_dict() | {"command_id": "other", "priority": 7}
    response = dispatcher.receive(json.dumps(broken), now=T0)
    assert response.status is ResponseStatus.REJECTED
    assert [(e.code, e.path) for e in response.errors] == [
        (ErrorCode.FIELD_OUT_OF_RANGE, "priority")
    ]
    assert dispatcher.to_dict() == before
    assert dispatcher.evaluate(T0, MID_SOE).decision.setpoint_kw == 1.0


def test_duplicate_and_garbage_are_answered() -> None:
    dispatcher = Dispatcher(LIMITS)
    command = layer(Priority.INTRADAY, T0, 2, 1.0, T0)
    dispatcher.receive(command.to_payload(), now=T0)
    again = dispatcher.receive(command.to_payload(), now=T0)
    assert {e.code for e in again.errors} == {ErrorCode.DUPLICATE}
    garbage = dispatcher.receive(b"\xff not json", now=T0)
    assert garbage.status is ResponseStatus.REJECTED
    assert garbage.in_reply_to is None
    assert garbage.errors[0].code is ErrorCode.MESSAGE_MALFORMED


def test_nothing_scheduled_is_self_consumption_fallback() -> None:
    state = Dispatcher(LIMITS).evaluate(T0, MID_SOE)
    assert state.decision.mode is ControlMode.SELF_CONSUMPTION
    assert state.decision.source is ControlSource.FALLBACK
    assert not state.following_schedule
    assert state.next_change is None


def test_simulated_day_of_layers_override_and_expiry() -> None:
    """p0 for a year, p1 (48 h) every 6 h, p2 (3 h) every 30 min, an override with until."""
    dispatcher = Dispatcher(LIMITS)
    # p0: one year of -0.5 kW, issued at the start.
    year = [ScheduleEntry(T0, T0 + timedelta(days=365), power_kw=-0.5)]
    p0 = Command.create(command_id="p0", priority=Priority.FALLBACK, schedule=year, now=T0)
    assert dispatcher.offer(p0, now=T0).status is ResponseStatus.ACCEPTED
    override_from = T0 + timedelta(hours=20)
    override_until = override_from + timedelta(hours=1)
    last_p2 = T0 + timedelta(hours=16) - HALF_HOUR
    t = T0
    while t < T0 + timedelta(days=1):
        if t.minute == 0 and t.hour % 6 == 0 and t.hour < 12:
            # p1 only for the first 12 h: afterwards the 48-h layer from 06:00 is still live.
            p1 = layer(Priority.DAY_AHEAD, t, 96, float(t.hour // 6 + 1), t)
            assert dispatcher.offer(p1, now=t).status is ResponseStatus.ACCEPTED
        if t <= last_p2:
            p2 = layer(Priority.INTRADAY, t, 6, 4.0 if t.hour % 2 else -4.0, t)
            assert dispatcher.offer(p2, now=t).status is ResponseStatus.ACCEPTED
        if t == override_from:
            dispatcher.set_override(ManualOverride(ControlMode.IDLE, until=override_until), now=t)
        state = dispatcher.evaluate(t, MID_SOE)
        decision = state.decision
        if override_from <= t < override_until:
            expected = (ControlMode.IDLE, 0.0, ControlSource.MANUAL)
        elif t < last_p2 + 6 * HALF_HOUR:
            # The newest p2 covers t (issued every 30 min for the next 3 h).
            newest_issue = min(t, last_p2)
            expected = (
                ControlMode.SETPOINT,
                4.0 if newest_issue.hour % 2 else -4.0,
                ControlSource.P2,
            )
        else:
            # p2 expired: the most recent p1 (issued 06:00, value 2) wins over the 00:00 one.
            expected = (ControlMode.SETPOINT, 2.0, ControlSource.P1)
        assert (decision.mode, decision.setpoint_kw, decision.source) == expected, t
        assert state.next_change is not None
        t += HALF_HOUR
    # After the override expired by itself it is gone.
    assert dispatcher.override is None


def test_restart_resumes_the_same_entry() -> None:
    dispatcher = Dispatcher(LIMITS)
    dispatcher.offer(layer(Priority.DAY_AHEAD, T0, 8, 3.0, T0), now=T0)
    dispatcher.offer(layer(Priority.INTRADAY, T0, 2, -1.0, T0), now=T0)
    until = T0 + timedelta(hours=3)
    dispatcher.set_override(ManualOverride(ControlMode.NO_DISCHARGE, until=until), now=T0)
    stored = json.loads(json.dumps(dispatcher.to_dict()))

    restored = Dispatcher.from_dict(LIMITS, stored)
    mid = T0 + timedelta(minutes=45)
    assert restored.evaluate(mid, MID_SOE) == dispatcher.evaluate(mid, MID_SOE)
    restored.clear_override()
    state = restored.evaluate(mid, MID_SOE)
    assert (state.decision.setpoint_kw, state.decision.source) == (-1.0, ControlSource.P2)
    with pytest.raises(ValueError, match="format"):
        Dispatcher.from_dict(LIMITS, {"format": 99})


def test_hard_limits_apply_to_scheduled_entries() -> None:
    dispatcher = Dispatcher(LIMITS)
    dispatcher.offer(layer(Priority.INTRADAY, T0, 2, -4.0, T0), now=T0)
    state = dispatcher.evaluate(T0, SiteState(soe_kwh=1.0))
    assert state.decision.setpoint_kw == 0.0


def test_resource_unavailable_is_reported_once_per_command() -> None:
    dispatcher = Dispatcher(LIMITS)
    command = layer(Priority.INTRADAY, T0, 2, -1.0, T0)
    dispatcher.offer(command, now=T0)
    state = dispatcher.evaluate(T0, MID_SOE)
    response = dispatcher.unavailable_response(state, now=T0)
    assert response is not None
    assert response.status is ResponseStatus.ACCEPTED
    assert response.command_id == command.command_id
    assert response.in_reply_to == command.envelope.message_id
    assert [e.code for e in response.errors] == [ErrorCode.RESOURCE_UNAVAILABLE]
    assert dispatcher.unavailable_response(state, now=T0) is None
    dispatcher.battery_reachable()
    assert dispatcher.unavailable_response(state, now=T0) is not None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": ControlMode.SETPOINT}, "power_kw"),
        ({"mode": ControlMode.LIMIT_CHARGE}, "max_charge_kw"),
        ({"mode": ControlMode.LIMIT_CHARGE, "max_charge_kw": -1.0}, "max_charge_kw"),
        ({"mode": ControlMode.SETPOINT, "power_kw": float("nan")}, "power_kw"),
        ({"mode": ControlMode.IDLE, "until": datetime(2026, 1, 1)}, "time zone"),
    ],
)
def test_bad_overrides_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ManualOverride(**kwargs)  # type: ignore[arg-type]


def test_override_in_the_past_is_refused() -> None:
    with pytest.raises(ValueError, match="future"):
        Dispatcher(LIMITS).set_override(
            ManualOverride(ControlMode.IDLE, until=T0 - HALF_HOUR), now=T0
        )


def test_read_elsewhere_then_taken_is_the_same_as_receive() -> None:
    """read_command (on a worker thread in HA) + take (on the loop) == receive."""
    command = layer(Priority.DAY_AHEAD, T0, 4, 1.5, T0)
    split, whole = Dispatcher(LIMITS), Dispatcher(LIMITS)
    taken = split.take(read_command(command.to_payload(), now=T0), now=T0)
    received = whole.receive(command.to_payload(), now=T0)
    assert (taken.status, taken.command_id) == (received.status, received.command_id)
    assert split.to_dict() == whole.to_dict()
    # A rejection read elsewhere is answered the same way too, and changes nothing.
    again = split.take(read_command(command.to_payload(), now=T0), now=T0)
    assert [e.code for e in again.errors] == [ErrorCode.DUPLICATE, ErrorCode.DUPLICATE]
    broken = split.take(read_command(b"[]", now=T0), now=T0)
    assert [e.code for e in broken.errors] == [ErrorCode.MESSAGE_MALFORMED]
    assert split.to_dict() == whole.to_dict()
