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
        AssetFlows("battery_charge_ac", "battery_discharge_ac"),
        AssetFlows("battery_charge_dc", "battery_to_inverter_dc"),
        AssetFlows("meter_import_ac", "meter_export_ac"),  # stand-alone: the meter is the battery
    ),
    AssetKind.PV: (AssetFlows("solar_net_generation_ac"), AssetFlows("solar_generation_dc")),
    AssetKind.GRID_METER: (AssetFlows("meter_import_ac", "meter_export_ac"),),
    AssetKind.LOAD: (AssetFlows("load_demand_ac"),),
}


def asset_flows(kind: AssetKind, metrics: frozenset[str]) -> AssetFlows | None:
    """The flows of ``kind`` among the site's metrics (None: the site has no such asset)."""
    for flows in _CANDIDATES[kind]:
        if flows.positive in metrics and (flows.negative is None or flows.negative in metrics):
            return flows
    return None
