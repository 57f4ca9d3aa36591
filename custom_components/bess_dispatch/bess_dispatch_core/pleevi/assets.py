"""Which of the gateway's metrics make each Pleevi asset's energy and power.

``energyValue`` is the lifetime energy in the direction ``powerValue`` counts positive:
battery charged (a stand-alone site: imported at its meter), PV generated, grid imported,
load consumed. ``powerValue`` is that direction minus the opposite one where the asset has
two (battery: charge - discharge; grid: import - export). The first candidate pair the
site reports is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..protocol.metrics import (
    BATTERY_CHARGE_AC,
    BATTERY_CHARGE_DC,
    BATTERY_DISCHARGE_AC,
    BATTERY_TO_INVERTER_DC,
    LOAD_DEMAND_AC,
    METER_EXPORT_AC,
    METER_IMPORT_AC,
    SOLAR_GENERATION_DC,
    SOLAR_NET_GENERATION_AC,
)


class AssetKind(StrEnum):
    BATTERY = "battery"
    PV = "pv"
    GRID_METER = "grid_meter"
    LOAD = "load"


@dataclass(frozen=True, slots=True)
class AssetFlows:
    """``positive`` feeds energyValue and +power; ``negative`` (if any) -power."""

    positive: str
    negative: str | None = None


_CANDIDATES: dict[AssetKind, tuple[AssetFlows, ...]] = {
    AssetKind.BATTERY: (
        AssetFlows(BATTERY_CHARGE_AC, BATTERY_DISCHARGE_AC),
        AssetFlows(BATTERY_CHARGE_DC, BATTERY_TO_INVERTER_DC),
        AssetFlows(METER_IMPORT_AC, METER_EXPORT_AC),  # stand-alone: the meter is the battery
    ),
    AssetKind.PV: (AssetFlows(SOLAR_NET_GENERATION_AC), AssetFlows(SOLAR_GENERATION_DC)),
    AssetKind.GRID_METER: (AssetFlows(METER_IMPORT_AC, METER_EXPORT_AC),),
    AssetKind.LOAD: (AssetFlows(LOAD_DEMAND_AC),),
}


def asset_flows(kind: AssetKind, metrics: frozenset[str]) -> AssetFlows | None:
    """The flows of ``kind`` among the site's metrics (None: the site has no such asset)."""
    for flows in _CANDIDATES[kind]:
        if flows.positive in metrics and (flows.negative is None or flows.negative in metrics):
            return flows
    return None
