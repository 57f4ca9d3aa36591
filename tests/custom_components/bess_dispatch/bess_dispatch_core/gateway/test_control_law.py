"""The control law: hand-checked cases and a property test that hard limits always hold."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bess_dispatch_core.gateway.control_law import (
    ControlDecision,
    ControlSource,
    HardLimits,
    Intent,
    Limit,
    SiteState,
    decide,
)
from bess_dispatch_core.protocol.command import ControlMode

LIMITS = HardLimits(soe_min_kwh=1.0, soe_max_kwh=9.0, max_charge_kw=5.0, max_discharge_kw=4.0)
P2 = ControlSource.P2


def setpoint(kw: float) -> Intent:
    return Intent(ControlMode.SETPOINT, P2, power_kw=kw)


def test_setpoint_within_limits_passes_unchanged() -> None:
    decision = decide(setpoint(-2.5), LIMITS, SiteState(soe_kwh=5.0))
    assert decision == ControlDecision(ControlMode.SETPOINT, P2, -2.5, 5.0, 4.0, frozenset())


def test_discharge_at_min_soe_becomes_zero() -> None:
    decision = decide(setpoint(-3.0), LIMITS, SiteState(soe_kwh=1.0))
    assert decision.setpoint_kw == 0.0
    assert decision.max_discharge_kw == 0.0
    assert Limit.SOE_MIN in decision.limited_by


def test_charge_at_max_soe_becomes_zero_but_discharge_is_allowed() -> None:
    assert decide(setpoint(2.0), LIMITS, SiteState(soe_kwh=9.0)).setpoint_kw == 0.0
    assert decide(setpoint(-2.0), LIMITS, SiteState(soe_kwh=9.0)).setpoint_kw == -2.0


def test_power_limits_clamp_and_are_named() -> None:
    charge = decide(setpoint(7.0), LIMITS, SiteState(soe_kwh=5.0))
    assert charge.setpoint_kw == 5.0
    assert charge.limited_by == {Limit.CHARGE_POWER}
    discharge = decide(setpoint(-7.0), LIMITS, SiteState(soe_kwh=5.0))
    assert discharge.setpoint_kw == -4.0
    assert discharge.limited_by == {Limit.DISCHARGE_POWER}


def test_no_grid_charging_caps_charge_at_pv_surplus() -> None:
    limits = HardLimits(1.0, 9.0, 5.0, 4.0, grid_charging_allowed=False)
    decision = decide(setpoint(5.0), limits, SiteState(soe_kwh=5.0, pv_kw=3.0, load_kw=1.0))
    assert decision.setpoint_kw == 2.0
    assert Limit.GRID_CHARGING in decision.limited_by
    # PV unknown: nothing proves the energy would not come from the grid.
    assert decide(setpoint(5.0), limits, SiteState(soe_kwh=5.0)).setpoint_kw == 0.0


def test_export_limit_caps_discharge() -> None:
    limits = HardLimits(1.0, 9.0, 5.0, 4.0, export_limit_kw=1.0)
    state = SiteState(soe_kwh=5.0, pv_kw=2.0, load_kw=2.5)
    decision = decide(setpoint(-4.0), limits, state)
    # export = pv + discharge - load = 2 + 1.5 - 2.5 = 1.0 kW
    assert decision.setpoint_kw == pytest.approx(-1.5)
    assert Limit.EXPORT in decision.limited_by


def test_ramp_rate_limits_the_step() -> None:
    limits = HardLimits(1.0, 9.0, 5.0, 4.0, ramp_kw_per_s=0.1)
    decision = decide(
        setpoint(4.0), limits, SiteState(soe_kwh=5.0), previous_setpoint_kw=0.0, elapsed_s=10.0
    )
    assert decision.setpoint_kw == pytest.approx(1.0)
    assert Limit.RAMP in decision.limited_by


def test_protective_limit_wins_over_ramp() -> None:
    limits = HardLimits(1.0, 9.0, 5.0, 4.0, ramp_kw_per_s=0.1)
    decision = decide(
        setpoint(-4.0), limits, SiteState(soe_kwh=1.0), previous_setpoint_kw=-4.0, elapsed_s=1.0
    )
    assert decision.setpoint_kw == 0.0


def test_modes_set_caps_without_a_setpoint() -> None:
    state = SiteState(soe_kwh=5.0)
    no_discharge = decide(Intent(ControlMode.NO_DISCHARGE, P2), LIMITS, state)
    assert (
        no_discharge.setpoint_kw,
        no_discharge.max_charge_kw,
        no_discharge.max_discharge_kw,
    ) == (
        None,
        5.0,
        0.0,
    )
    limit_charge = decide(Intent(ControlMode.LIMIT_CHARGE, P2, max_charge_kw=1.5), LIMITS, state)
    assert (limit_charge.max_charge_kw, limit_charge.max_discharge_kw) == (1.5, 4.0)
    idle = decide(Intent(ControlMode.IDLE, P2), LIMITS, state)
    assert idle.setpoint_kw == 0.0


def test_nothing_scheduled_falls_back_to_self_consumption() -> None:
    decision = decide(None, LIMITS, SiteState(soe_kwh=5.0))
    assert (decision.mode, decision.source) == (
        ControlMode.SELF_CONSUMPTION,
        ControlSource.FALLBACK,
    )


def test_unknown_soe_hands_control_back_to_the_battery() -> None:
    decision = decide(setpoint(-3.0), LIMITS, SiteState(soe_kwh=None))
    assert decision.mode is ControlMode.SELF_CONSUMPTION
    assert decision.setpoint_kw is None
    assert Limit.SOE_UNKNOWN in decision.limited_by


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"soe_min_kwh": 5.0, "soe_max_kwh": 4.0}, "soe_min_kwh"),
        ({"max_charge_kw": -1.0}, "max_charge_kw"),
        ({"max_discharge_kw": math.nan}, "max_discharge_kw"),
        ({"ramp_kw_per_s": -0.1}, "ramp_kw_per_s"),
        ({"export_limit_kw": math.inf}, "export_limit_kw"),
    ],
)
def test_inconsistent_limits_are_refused_naming_the_field(
    kwargs: dict[str, float], field: str
) -> None:
    base = {"soe_min_kwh": 1.0, "soe_max_kwh": 9.0, "max_charge_kw": 5.0, "max_discharge_kw": 4.0}
    with pytest.raises(ValueError, match=field):
        HardLimits(**(base | kwargs))  # type: ignore[arg-type]


finite = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False)
positive = st.floats(min_value=0.0, max_value=20.0, allow_nan=False)


@st.composite
def limits_strategy(draw: st.DrawFn) -> HardLimits:
    soe_min = draw(st.floats(min_value=0.0, max_value=10.0))
    return HardLimits(
        soe_min_kwh=soe_min,
        soe_max_kwh=soe_min + draw(st.floats(min_value=0.0, max_value=10.0)),
        max_charge_kw=draw(positive),
        max_discharge_kw=draw(positive),
        ramp_kw_per_s=draw(st.none() | positive),
        grid_charging_allowed=draw(st.booleans()),
        export_limit_kw=draw(st.none() | positive),
    )


intents = st.none() | st.builds(
    Intent,
    mode=st.sampled_from(ControlMode),
    source=st.sampled_from(ControlSource),
    power_kw=st.none() | finite,
    max_charge_kw=st.none() | finite,
)


@settings(max_examples=1000, deadline=None)
@given(
    intent=intents,
    limits=limits_strategy(),
    soe=st.none() | st.floats(min_value=-1.0, max_value=25.0),
    pv=st.none() | positive,
    load=st.none() | positive,
    previous=st.none() | finite,
    elapsed=st.none() | st.floats(min_value=0.0, max_value=120.0),
)
def test_hard_limits_are_never_violated(
    intent: Intent | None,
    limits: HardLimits,
    soe: float | None,
    pv: float | None,
    load: float | None,
    previous: float | None,
    elapsed: float | None,
) -> None:
    state = SiteState(soe_kwh=soe, pv_kw=pv, load_kw=load)
    decision = decide(intent, limits, state, previous_setpoint_kw=previous, elapsed_s=elapsed)
    tolerance = 1e-9

    assert 0.0 <= decision.max_charge_kw <= limits.max_charge_kw + tolerance
    assert 0.0 <= decision.max_discharge_kw <= limits.max_discharge_kw + tolerance
    if soe is None:
        assert decision.mode is ControlMode.SELF_CONSUMPTION
    else:
        if soe <= limits.soe_min_kwh:
            assert decision.max_discharge_kw == 0.0
        if soe >= limits.soe_max_kwh:
            assert decision.max_charge_kw == 0.0
    if not limits.grid_charging_allowed:
        assert decision.max_charge_kw <= (state.surplus_kw() or 0.0)
    if limits.export_limit_kw is not None:
        export_room = limits.export_limit_kw + (load or 0.0) - (pv or 0.0)
        assert decision.max_discharge_kw <= max(0.0, export_room) + tolerance
    if decision.mode is ControlMode.NO_DISCHARGE:
        assert decision.max_discharge_kw == 0.0
    if decision.setpoint_kw is not None:
        assert -decision.max_discharge_kw - tolerance <= decision.setpoint_kw
        assert decision.setpoint_kw <= decision.max_charge_kw + tolerance
        if limits.ramp_kw_per_s is not None and previous is not None and elapsed is not None:
            step = limits.ramp_kw_per_s * elapsed
            at_a_cap = decision.setpoint_kw in (decision.max_charge_kw, -decision.max_discharge_kw)
            assert abs(decision.setpoint_kw - previous) <= step + tolerance or at_a_cap


def test_emergency_stop_outranks_every_intent_the_ramp_and_an_unknown_soe() -> None:
    ramped = HardLimits(
        soe_min_kwh=1.0, soe_max_kwh=9.0, max_charge_kw=5.0, max_discharge_kw=5.0, ramp_kw_per_s=0.1
    )
    for intent in (
        Intent(ControlMode.SETPOINT, ControlSource.MANUAL, -5.0),
        Intent(ControlMode.SETPOINT, ControlSource.P2, 5.0),
        None,
    ):
        for soe in (5.0, None):
            decision = decide(
                intent,
                ramped,
                SiteState(soe_kwh=soe),
                previous_setpoint_kw=-5.0,
                elapsed_s=1.0,
                emergency_stop=True,
            )
            assert decision.mode is ControlMode.IDLE
            assert decision.source is ControlSource.EMERGENCY_STOP
            assert (decision.setpoint_kw, decision.max_charge_kw, decision.max_discharge_kw) == (
                0.0,
                0.0,
                0.0,
            )
            assert decision.limited_by == {Limit.EMERGENCY_STOP}
