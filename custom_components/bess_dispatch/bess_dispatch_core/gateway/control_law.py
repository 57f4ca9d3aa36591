"""The control law: what the schedule (or the owner) asks, bounded by the owner's hard limits.

Pure and stateless apart from the previous setpoint the caller passes in for the ramp
rate. The gateway calls it at every schedule boundary, on every command and on every SoE
update, and acts on the returned decision. Whatever the request, the decision never
discharges at or below the minimum SoE, never charges at or above the maximum SoE, never
exceeds the power limits or the ramp rate, never charges from the grid when that is
forbidden and never pushes export over the export limit (the guarantees the owner's
hard limits promise: docs/protocol.md, "Who is responsible for what").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from ..protocol.command import ControlMode

# Tolerance for comparing SoE readings to limits: meters report with finite resolution.
SOE_EPSILON_KWH = 1e-6


class ControlSource(StrEnum):
    """Where the effective mode came from."""

    P2 = "p2"
    P1 = "p1"
    P0 = "p0"
    MANUAL = "manual"
    FALLBACK = "fallback"
    DEMAND_RESPONSE = "demand_response"
    EMERGENCY_STOP = "emergency_stop"


class Limit(StrEnum):
    """A hard limit that changed what was asked."""

    SOE_MIN = "soe_min"
    SOE_MAX = "soe_max"
    SOE_UNKNOWN = "soe_unknown"
    CHARGE_POWER = "charge_power"
    DISCHARGE_POWER = "discharge_power"
    RAMP = "ramp"
    GRID_CHARGING = "grid_charging"
    EXPORT = "export"
    EMERGENCY_STOP = "emergency_stop"


@dataclass(frozen=True, slots=True)
class HardLimits:
    """The owner's limits; the gateway enforces them whatever a schedule says."""

    soe_min_kwh: float
    soe_max_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    ramp_kw_per_s: float | None = None
    grid_charging_allowed: bool = True
    export_limit_kw: float | None = None

    def __post_init__(self) -> None:
        for name in ("soe_min_kwh", "soe_max_kwh", "max_charge_kw", "max_discharge_kw"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.soe_min_kwh > self.soe_max_kwh:
            raise ValueError(
                f"soe_min_kwh ({self.soe_min_kwh}) must not exceed soe_max_kwh ({self.soe_max_kwh})"
            )
        for name in ("ramp_kw_per_s", "export_limit_kw"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                raise ValueError(f"{name} must be a finite number >= 0 or None, got {value!r}")


@dataclass(frozen=True, slots=True)
class SiteState:
    """What the law needs to know about the site now; None means unknown."""

    soe_kwh: float | None
    pv_kw: float | None = None
    load_kw: float | None = None

    def surplus_kw(self) -> float | None:
        """PV power the load does not use (what the battery may charge from without grid)."""
        if self.pv_kw is None:
            return None
        return max(0.0, self.pv_kw - (self.load_kw or 0.0))


@dataclass(frozen=True, slots=True)
class Intent:
    """What is asked for now: a schedule entry's mode, or the owner's manual override."""

    mode: ControlMode
    source: ControlSource
    power_kw: float | None = None
    max_charge_kw: float | None = None


@dataclass(frozen=True, slots=True)
class ControlDecision:
    """What the battery is told to do.

    ``setpoint_kw`` is the fixed AC power for SETPOINT and IDLE (+ charge, - discharge) and
    None for the self-consumption modes, where the battery follows its own logic within
    ``max_charge_kw`` / ``max_discharge_kw``.
    """

    mode: ControlMode
    source: ControlSource
    setpoint_kw: float | None
    max_charge_kw: float
    max_discharge_kw: float
    limited_by: frozenset[Limit]


FALLBACK_INTENT = Intent(ControlMode.SELF_CONSUMPTION, ControlSource.FALLBACK)
# Battery idle at 0 kW with no headroom either way: safe whatever the SoE (even unknown).
EMERGENCY_STOP_DECISION = ControlDecision(
    ControlMode.IDLE, ControlSource.EMERGENCY_STOP, 0.0, 0.0, 0.0, frozenset({Limit.EMERGENCY_STOP})
)


def decide(
    intent: Intent | None,
    limits: HardLimits,
    state: SiteState,
    *,
    previous_setpoint_kw: float | None = None,
    elapsed_s: float | None = None,
    emergency_stop: bool = False,
) -> ControlDecision:
    """Turn what is asked into what is safe.

    ``intent`` None means nothing covers now: the battery's own self-consumption (the
    caller raises the alert). ``previous_setpoint_kw`` and ``elapsed_s`` bound the change by
    the ramp rate. ``emergency_stop`` outranks every intent, schedule or manual, and the
    ramp rate too: stopping must not wait for a ramp.
    """
    if emergency_stop:
        return EMERGENCY_STOP_DECISION
    limited: set[Limit] = set()
    if intent is None:
        intent = FALLBACK_INTENT
    if state.soe_kwh is None and intent.mode is not ControlMode.SELF_CONSUMPTION:
        # Without the SoE the SoE limits cannot be guaranteed: hand control back to the
        # battery's own management, which protects its cells by itself.
        intent = Intent(ControlMode.SELF_CONSUMPTION, intent.source)
        limited.add(Limit.SOE_UNKNOWN)

    charge_cap, discharge_cap = _power_caps(limits, state, limited)
    discharge_cap = _export_bounded_discharge(discharge_cap, limits, state, limited)
    mode = intent.mode
    if mode is ControlMode.NO_DISCHARGE:
        discharge_cap = 0.0
    elif mode is ControlMode.LIMIT_CHARGE:
        charge_cap = min(charge_cap, max(0.0, intent.max_charge_kw or 0.0))

    setpoint: float | None = None
    if mode in (ControlMode.SETPOINT, ControlMode.IDLE):
        asked = 0.0 if mode is ControlMode.IDLE else (intent.power_kw or 0.0)
        setpoint = _clamped(asked, charge_cap, discharge_cap, limits, limited)
        setpoint = _ramped(
            setpoint,
            charge_cap=charge_cap,
            discharge_cap=discharge_cap,
            limits=limits,
            previous_kw=previous_setpoint_kw,
            elapsed_s=elapsed_s,
            limited=limited,
        )
    return ControlDecision(
        mode, intent.source, setpoint, charge_cap, discharge_cap, frozenset(limited)
    )


def _power_caps(limits: HardLimits, state: SiteState, limited: set[Limit]) -> tuple[float, float]:
    """Charge and discharge caps from the power limits, the SoE limits and grid charging."""
    charge_cap = limits.max_charge_kw
    discharge_cap = limits.max_discharge_kw
    soe = state.soe_kwh
    if soe is not None and soe >= limits.soe_max_kwh - SOE_EPSILON_KWH:
        charge_cap = 0.0
        limited.add(Limit.SOE_MAX)
    if soe is not None and soe <= limits.soe_min_kwh + SOE_EPSILON_KWH:
        discharge_cap = 0.0
        limited.add(Limit.SOE_MIN)
    if not limits.grid_charging_allowed:
        # Unknown PV counts as none: charging then could only come from the grid.
        surplus = state.surplus_kw() or 0.0
        if surplus < charge_cap:
            charge_cap = surplus
            limited.add(Limit.GRID_CHARGING)
    return charge_cap, discharge_cap


def _export_bounded_discharge(
    discharge_kw: float, limits: HardLimits, state: SiteState, limited: set[Limit]
) -> float:
    """Largest discharge that keeps export at the meter within the export limit."""
    if limits.export_limit_kw is None or discharge_kw <= 0:
        return discharge_kw
    # Export = PV + discharge - load. Unknown PV is taken as none and unknown load as none:
    # with no load known to absorb it, the discharge itself may only be exported.
    allowed = max(0.0, limits.export_limit_kw + (state.load_kw or 0.0) - (state.pv_kw or 0.0))
    if discharge_kw > allowed:
        limited.add(Limit.EXPORT)
        return allowed
    return discharge_kw


def _clamped(
    asked: float, charge_cap: float, discharge_cap: float, limits: HardLimits, limited: set[Limit]
) -> float:
    """Clamp a setpoint into the caps, naming the power limit when that is what bit."""
    if asked > charge_cap:
        if asked > limits.max_charge_kw:
            limited.add(Limit.CHARGE_POWER)
        return charge_cap
    if -asked > discharge_cap:
        if -asked > limits.max_discharge_kw:
            limited.add(Limit.DISCHARGE_POWER)
        return -discharge_cap
    return asked


def _ramped(
    setpoint: float,
    *,
    charge_cap: float,
    discharge_cap: float,
    limits: HardLimits,
    previous_kw: float | None,
    elapsed_s: float | None,
    limited: set[Limit],
) -> float:
    """Move towards the setpoint no faster than the ramp rate allows.

    The protective caps (SoE, power, grid charging, export) win over the ramp: when a cap
    tightens, the setpoint jumps to it at once rather than keep the battery doing what the
    limits now forbid; the battery's own protection would cut it anyway.
    """
    if limits.ramp_kw_per_s is None or previous_kw is None or elapsed_s is None:
        return setpoint
    step = limits.ramp_kw_per_s * max(0.0, elapsed_s)
    if abs(setpoint - previous_kw) <= step:
        return setpoint
    limited.add(Limit.RAMP)
    moved = previous_kw + math.copysign(step, setpoint - previous_kw)
    return min(charge_cap, max(-discharge_cap, moved))
