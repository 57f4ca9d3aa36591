"""What telemetry the service believes: bounds from the clock and the site's physics.

A gateway (or anyone who can publish on its topics) controls every number it sends. One
reading stamped in the year 2100 used to open a slot for every half hour until then
(1.3 million, a 93 MB state file) and kept the site "fresh" for ever; one PV counter of
1e12 kWh became a 4e11 kW forecast. Each check here returns why a reading is refused, or
None; the service drops refused readings and reports them (log, ``last_error``, and the
test broker's feedback).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bess_dispatch_core.protocol.metrics import (
    BATTERY_CHARGE_AC,
    BATTERY_DISCHARGE_AC,
    BATTERY_SOE,
    METER_EXPORT_AC,
    METER_IMPORT_AC,
    SOLAR_NET_GENERATION_AC,
)
from optimizer.settings.site import GRID_CONNECTION_KW, SiteSettings

# A gateway's clock may run a little ahead of ours; more than this is not a clock skew.
MAX_FUTURE_SKEW = timedelta(minutes=5)
# The gateway's outbox keeps readings for 7 days; anything older is not a late delivery.
MAX_READING_AGE = timedelta(days=8)
# SoE readings a little outside [0, capacity] are sensor noise; clamped when planning.
SOE_TOLERANCE_FRACTION = 0.05
SOE_TOLERANCE_KWH = 0.1
# A counter may rise at most this much faster than the site's rated power ...
POWER_MARGIN = 1.5
# ... plus a counter's rounding (whole kWh on some meters) between two close readings.
COUNTER_SLACK_KWH = 1.0
# The metric names the service reads, under the service's short names (the names
# themselves have one home, the protocol's catalogue).
SOE = BATTERY_SOE
PV = SOLAR_NET_GENERATION_AC
IMPORT = METER_IMPORT_AC
EXPORT = METER_EXPORT_AC
CHARGE = BATTERY_CHARGE_AC
DISCHARGE = BATTERY_DISCHARGE_AC


def reading_time_problem(at: datetime, now: datetime) -> str | None:
    if at > now + MAX_FUTURE_SKEW:
        return (
            f"measured_at {at.isoformat()} is more than {_minutes(MAX_FUTURE_SKEW)} min "
            f"ahead of the optimizer's clock ({now.isoformat()})"
        )
    if at < now - MAX_READING_AGE:
        return (
            f"measured_at {at.isoformat()} is older than {MAX_READING_AGE.days} days "
            f"(the optimizer's clock: {now.isoformat()})"
        )
    return None


@dataclass(frozen=True, slots=True)
class PhysicalLimits:
    """The site's capacity and the fastest each lifetime counter can rise (kW)."""

    capacity_kwh: float
    counter_kw: dict[str, float]

    @classmethod
    def of(cls, settings: SiteSettings) -> PhysicalLimits:
        # Without a rated PV peak, the grid connection's size bounds PV, import and export.
        pv = settings.pv.kwp if settings.pv is not None else GRID_CONNECTION_KW
        return cls(
            capacity_kwh=settings.battery_capacity_kwh,
            counter_kw={
                PV: pv,
                IMPORT: GRID_CONNECTION_KW,
                EXPORT: GRID_CONNECTION_KW,
                CHARGE: settings.max_charge_kw,
                DISCHARGE: settings.max_discharge_kw,
            },
        )

    def soe_problem(self, soe_kwh: float) -> str | None:
        if not math.isfinite(soe_kwh):
            return f"battery_soe {soe_kwh!r} is not finite"
        tolerance = max(SOE_TOLERANCE_FRACTION * self.capacity_kwh, SOE_TOLERANCE_KWH)
        if -tolerance <= soe_kwh <= self.capacity_kwh + tolerance:
            return None
        return f"battery_soe {soe_kwh:.6g} kWh is outside 0..{self.capacity_kwh:g} kWh"

    def jump_problem(self, metric: str, increase_kwh: float, hours: float) -> str | None:
        """Why a counter's rise over ``hours`` is impossible for this site, or None."""
        limit_kw = self.counter_kw.get(metric, GRID_CONNECTION_KW)
        allowed = limit_kw * POWER_MARGIN * hours + COUNTER_SLACK_KWH
        if math.isfinite(increase_kwh) and increase_kwh <= allowed:
            return None
        return (
            f"{metric} rose {increase_kwh:.6g} kWh in {hours * 60:.3g} min; at most "
            f"{allowed:.6g} kWh is possible at {limit_kw:g} kW"
        )


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
