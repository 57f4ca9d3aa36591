"""Lifetime kWh counters from energy meters and from integrated power."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bess_dispatch_core.gateway.energy_counter import (
    CounterState,
    EnergyMeterCounter,
    MeterSemantics,
    PowerFlow,
    PowerIntegratingCounter,
)

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(("unit", "factor"), [("Wh", 0.001), ("kWh", 1.0), ("MWh", 1000.0)])
def test_energy_units_convert_to_kwh(unit: str, factor: float) -> None:
    counter = EnergyMeterCounter(unit)
    counter.update(100.0, _at(0))
    assert counter.update(103.5, _at(1)) == pytest.approx(3.5 * factor)


def test_first_reading_is_the_baseline_and_restored_lifetime_continues() -> None:
    counter = EnergyMeterCounter("kWh", state=CounterState(lifetime_kwh=500.0))
    assert counter.update(12_000.0, _at(0)) == 500.0
    assert counter.update(12_002.0, _at(5)) == 502.0


def test_total_increasing_reset_keeps_the_energy_after_the_reset() -> None:
    counter = EnergyMeterCounter("kWh", MeterSemantics.TOTAL_INCREASING)
    counter.update(100.0, _at(0))
    counter.update(110.0, _at(5))  # +10
    assert counter.update(3.0, _at(10)) == pytest.approx(13.0)  # reset, 3 since then
    assert counter.update(5.0, _at(15)) == pytest.approx(15.0)
    assert counter.resets == 1


def test_small_dip_is_noise_not_a_reset() -> None:
    counter = EnergyMeterCounter("Wh", MeterSemantics.TOTAL_INCREASING, noise_kwh=0.01)
    counter.update(10_000.0, _at(0))
    counter.update(9_995.0, _at(1))  # -5 Wh: noise
    assert counter.update(10_010.0, _at(2)) == pytest.approx(0.010)
    assert counter.resets == 0


def test_total_counts_only_rises_above_the_high_water_mark() -> None:
    counter = EnergyMeterCounter("kWh", MeterSemantics.TOTAL)
    counter.update(10.0, _at(0))
    counter.update(9.0, _at(1))
    counter.update(10.0, _at(2))
    assert counter.update(11.0, _at(3)) == pytest.approx(1.0)


def test_total_with_a_new_last_reset_starts_a_cycle() -> None:
    counter = EnergyMeterCounter("kWh", MeterSemantics.TOTAL)
    counter.update(50.0, _at(0), last_reset=_at(-60))
    counter.update(52.0, _at(5), last_reset=_at(-60))
    assert counter.update(1.5, _at(10), last_reset=_at(9)) == pytest.approx(3.5)


def test_unavailable_energy_reading_pauses_and_the_meter_bridges_the_gap() -> None:
    counter = EnergyMeterCounter("kWh")
    counter.update(1.0, _at(0))
    assert counter.update(None, _at(5)) == 0.0
    assert counter.update(4.0, _at(60)) == pytest.approx(3.0)


def test_counter_state_round_trips_through_a_dict() -> None:
    counter = EnergyMeterCounter("kWh")
    counter.update(1.0, _at(0))
    counter.update(2.0, _at(1))
    restored = EnergyMeterCounter("kWh", state=CounterState.from_dict(counter.state.to_dict()))
    assert restored.update(3.0, _at(2)) == pytest.approx(2.0)


def test_power_is_integrated_with_the_trapezoid_rule() -> None:
    counter = PowerIntegratingCounter("W")
    counter.update(1000.0, _at(0))
    # 1 kW -> 3 kW over one minute: mean 2 kW for 1/60 h.
    assert counter.update(3000.0, _at(1)) == pytest.approx(2.0 / 60)


def test_a_sign_change_is_split_between_import_and_export() -> None:
    imported = PowerIntegratingCounter("kW", PowerFlow.POSITIVE)
    exported = PowerIntegratingCounter("kW", PowerFlow.NEGATIVE)
    for counter in (imported, exported):
        counter.update(3.0, _at(0))
        counter.update(-1.0, _at(4))
    # Crosses zero at 3 min: +3 kW triangle over 3 min, -1 kW triangle over 1 min.
    assert imported.lifetime_kwh == pytest.approx(3.0 / 2 * 3 / 60)
    assert exported.lifetime_kwh == pytest.approx(1.0 / 2 * 1 / 60)


def test_power_gaps_and_unavailability_are_not_bridged() -> None:
    counter = PowerIntegratingCounter("kW", max_gap=timedelta(minutes=5))
    counter.update(6.0, _at(0))
    counter.update(6.0, _at(1))  # +0.1 kWh
    counter.update(6.0, _at(30))  # 29 min gap: not counted
    counter.update(None, _at(31))  # unavailable: the next reading starts over
    counter.update(6.0, _at(32))
    assert counter.update(6.0, _at(33)) == pytest.approx(0.2)
    assert counter.gaps == 2


def test_out_of_order_power_readings_are_ignored() -> None:
    counter = PowerIntegratingCounter("kW")
    counter.update(6.0, _at(1))
    counter.update(100.0, _at(0))
    assert counter.update(6.0, _at(2)) == pytest.approx(0.1)


def test_bad_input_names_the_problem() -> None:
    with pytest.raises(ValueError, match="energy unit"):
        EnergyMeterCounter("kW")
    with pytest.raises(ValueError, match="power unit"):
        PowerIntegratingCounter("kWh")
    with pytest.raises(ValueError, match="value"):
        EnergyMeterCounter("kWh").update(float("nan"), _at(0))
    with pytest.raises(ValueError, match="timezone"):
        EnergyMeterCounter("kWh").update(1.0, datetime(2026, 1, 1))
