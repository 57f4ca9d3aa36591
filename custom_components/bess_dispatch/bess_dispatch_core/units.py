"""The one conversion between state of charge (% of usable capacity) and state of energy.

The gateway's hard limits, its telemetry (a SoC sensor times the usable capacity), the
SunSpec readings (Wh) and the SoC sensor entity all convert here, so a rounding or range
rule changes in one place. Works in whatever energy unit the capacity is given in.
"""

from __future__ import annotations

import math


def soe_from_percent(percent: float, capacity: float) -> float:
    """The energy ``percent`` % of ``capacity`` holds, in the capacity's unit."""
    return percent / 100.0 * capacity


def percent_of_capacity(soe: float, capacity: float) -> float:
    """``soe`` as a share of ``capacity`` in % (both in one unit; capacity > 0)."""
    return 100.0 * soe / capacity


def soe_kwh(soc_percent: float, capacity_kwh: float) -> float:
    """State of energy (kWh) from a reported state of charge, refusing what is not one."""
    soc = _finite(soc_percent, "soc_percent")
    capacity = _finite(capacity_kwh, "capacity_kwh")
    if not 0.0 <= soc <= 100.0:
        raise ValueError(f"soc_percent must be within 0..100, got {soc}")
    if capacity <= 0:
        raise ValueError(f"capacity_kwh must be > 0, got {capacity}")
    return soe_from_percent(soc, capacity)


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)
