"""The simulated SunSpec site (:mod:`.sunspec_simulation`) in real time: wall-clock physics,
PV and load following the time of day, and a battery that does self-consumption on its own
and obeys the model 124 controls the gateway writes (with their revert watchdog). Serve it
with ``start_sunspec_server(site.simulation, host, port, before_request=site.refresh)``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from .energy_log import EnergyLog
from .sunspec_simulation import SunSpecSimulation

PV_PEAK_W = 4_500.0
BASE_LOAD_W = 500.0
EVENING_LOAD_W = 1_500.0


def pv_w(hour: float) -> float:
    """A clear day: a half sine between 06:00 and 18:00."""
    if not 6.0 < hour < 18.0:
        return 0.0
    return PV_PEAK_W * math.sin(math.pi * (hour - 6.0) / 12.0)


def load_w(hour: float) -> float:
    """A base load with an evening bump around 19:00."""
    return BASE_LOAD_W + EVENING_LOAD_W * math.exp(-(((hour - 19.0) / 2.0) ** 2))


@dataclass
class RealTimeSite:
    """The simulation plus the profile that drives it, in one time zone: an AC-link home (a
    PV inverter, a battery with its own inverter, a grid meter and the house's load)."""

    simulation: SunSpecSimulation
    timezone: ZoneInfo
    #: grid_import, grid_export, inverter, battery_charge, battery_discharge, load (Wh).
    energy: EnergyLog = field(default_factory=EnergyLog)

    @classmethod
    def create(cls, timezone: str = "Asia/Tokyo") -> RealTimeSite:
        return cls(SunSpecSimulation(clock=time.time, ac_coupled=True), ZoneInfo(timezone))

    def refresh(self) -> None:
        """Bring the physics to now, then set PV, load and the inverter's own wish."""
        self.simulation.advance()
        self.energy.record(
            self.simulation.clock(),
            {
                "grid_import": self.simulation.grid_import_wh,
                "grid_export": self.simulation.grid_export_wh,
                "inverter": self.simulation.inverter_energy_wh,
                "battery_charge": self.simulation.battery_charged_wh,
                "battery_discharge": self.simulation.battery_discharged_wh,
                "load": self.simulation.load_consumed_wh,
            },
        )
        now = datetime.now(self.timezone)
        hour = now.hour + now.minute / 60 + now.second / 3600
        self.simulation.pv_w = pv_w(hour)
        self.simulation.load_w = load_w(hour)
        # Self-consumption: the inverter charges surplus PV and covers the deficit.
        self.simulation.own_battery_w = self.simulation.pv_w - self.simulation.load_w
