"""Stored energy (kWh) from the state of a state-of-charge (%) or stored-energy sensor."""

import math

from homeassistant.const import PERCENTAGE, STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfEnergy
from homeassistant.core import State

_KWH_PER_UNIT: dict[str, float] = {
    UnitOfEnergy.WATT_HOUR: 0.001,
    UnitOfEnergy.KILO_WATT_HOUR: 1.0,
    UnitOfEnergy.MEGA_WATT_HOUR: 1000.0,
}


def soe_kwh(state: State | None, usable_kwh: float) -> float | None:
    """None when the sensor is missing, unavailable, not a number or in an unknown unit."""
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    unit = state.attributes.get("unit_of_measurement")
    if unit == PERCENTAGE:
        return usable_kwh * value / 100
    factor = _KWH_PER_UNIT.get(str(unit))
    return None if factor is None else value * factor
