"""Site state: lifetime counters -> per-slot PV and load, persistence, rejected commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bess_dispatch_core.protocol import CommandResponse, ErrorCode, Priority, ProtocolError
from optimizer.service.service import MAX_RETRIES, OptimizerService, _Pending
from optimizer.service.site_forecast import HISTORY_DAYS
from optimizer.service.site_memory import (
    CHARGE,
    DISCHARGE,
    EXPORT,
    IMPORT,
    PV,
    PastSlot,
    SiteMemory,
    load_state,
    save_state,
)

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def _feed(state: SiteMemory, at: datetime, lifetimes: dict[str, float]) -> None:
    for metric, value in lifetimes.items():
        state.observe_counter(metric, value, at)


def test_counters_become_pv_and_load_per_slot_split_by_time(tmp_path: Path) -> None:
    state = SiteMemory("s1", "UTC")
    _feed(state, T0, {PV: 0, IMPORT: 0, EXPORT: 0, CHARGE: 0, DISCHARGE: 0})
    # 45 minutes: PV 3 kWh, import 0.75, export 0, charge 1.5, discharge 0 (even rates).
    end = T0 + timedelta(minutes=45)
    _feed(state, end, {PV: 3.0, IMPORT: 0.75, EXPORT: 0.0, CHARGE: 1.5, DISCHARGE: 0.0})
    state.observe_soe(4.0, end)
    _feed(state, end, {PV: 3.0})  # a repeated message adds nothing
    closed = state.close_slots()
    assert len(closed) == 1  # the second slot is still open
    slot = closed[0]
    assert slot.pv_kw == pytest.approx(4.0)  # 2 kWh in the first half hour
    assert slot.battery_kw == pytest.approx(2.0)
    assert slot.load_kw == pytest.approx(1.0 + 4.0 - 2.0)
    assert state.measured == {T0: slot}  # for the forecasts
    assert state.history == [slot]  # for the plan page

    save_state(tmp_path, state)
    restored = SiteMemory("s1", "UTC")
    assert load_state(tmp_path, restored)
    assert restored.to_dict() == state.to_dict()
    assert not load_state(tmp_path, SiteMemory("other", "UTC"))


def test_measured_slots_older_than_the_history_are_dropped() -> None:
    state = SiteMemory("s1", "UTC")
    old = T0 - timedelta(days=HISTORY_DAYS + 2)
    state.measured[old] = PastSlot(old, 1.0, 1.0, 0.0, None)
    _feed(state, T0, {PV: 0, IMPORT: 0, EXPORT: 0, CHARGE: 0, DISCHARGE: 0})
    _feed(state, T0 + timedelta(minutes=30), {PV: 1, IMPORT: 1, EXPORT: 0, CHARGE: 0, DISCHARGE: 0})
    state.close_slots()
    assert list(state.measured) == [T0]


def test_a_counter_reset_adds_no_energy() -> None:
    state = SiteMemory("s1", "UTC")
    state.observe_counter(PV, 100.0, T0)
    state.observe_counter(PV, 2.0, T0 + timedelta(minutes=10))
    assert state.slot_energy == {}


def test_rejected_command_is_retried_with_backoff_then_given_up(
    offline_service: OptimizerService,
) -> None:
    service = offline_service
    assert service.clock() == T0  # the retry delays below are counted from it
    runtime = service._sites["demo-site"]
    error = ProtocolError(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[0].power_kw", "too much")
    for attempt in range(1, MAX_RETRIES + 2):
        command_id = f"c{attempt}"
        runtime.pending[command_id] = _Pending(Priority.INTRADAY, T0)
        response = CommandResponse.rejected(
            in_reply_to=None, command_id=command_id, errors=[error], now=T0
        )
        service._on_response(runtime, response.to_payload())
        assert "rejected" in (service.status("demo-site").last_error or "")
        if attempt <= MAX_RETRIES:
            delay = runtime.retry_at[Priority.INTRADAY] - T0
            assert delay == timedelta(minutes=2 ** (attempt - 1))
        else:
            assert Priority.INTRADAY not in runtime.retry_at
    assert service.status("demo-site").layers["p2"] is None  # nothing broken recorded
