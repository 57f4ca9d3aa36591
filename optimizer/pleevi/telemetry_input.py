"""Pleevi measurements from a gateway -> what the service's site state observes.

A Pleevi measurement carries one direction's lifetime energy and a net power, so it gives
the service what it can take without inventing anything: the battery's SoE (its
``currentStateOfCharge`` x the operational capacity) and the PV's lifetime generation.
The grid meter's and the battery's other direction are not in the format, so the load
history the protocol profile derives from them is not available from Pleevi input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bess_dispatch_core.pleevi import PleeviMeasurement, PleeviValueError
from bess_dispatch_core.pleevi.assets import AssetKind
from bess_dispatch_core.protocol.metrics import BATTERY_SOE, SOLAR_NET_GENERATION_AC
from bess_dispatch_core.units import soe_from_percent


@dataclass(frozen=True, slots=True)
class Observation:
    """``metric`` as the service names it: ``battery_soe`` (kWh) or a lifetime counter (kWh)."""

    metric: str
    value_kwh: float
    at: datetime


def asset_kinds_of(site_id: str, battery_name: str | None) -> dict[str, AssetKind]:
    """The gateway's asset ids (``{site_id}-battery`` ...) and, for a Pleevi-described site,
    its battery device's name."""
    kinds = {f"{site_id}-{kind.value}": kind for kind in AssetKind}
    if battery_name is not None:
        kinds[battery_name] = AssetKind.BATTERY
    return kinds


def observations(
    measurement: PleeviMeasurement,
    *,
    asset_kinds: Mapping[str, AssetKind],
    capacity_kwh: float,
) -> list[Observation]:
    """What one measurement tells the service; PleeviValueError for an unknown asset or a
    battery measurement without its state of charge."""
    kind = asset_kinds.get(measurement.asset_id)
    if kind is None:
        raise PleeviValueError(
            "assetId", f"{measurement.asset_id[:60]!r} is not an asset of the site"
        )
    at = measurement.timestamp
    match kind:
        case AssetKind.BATTERY:
            if measurement.state_of_charge is None:
                raise PleeviValueError("currentStateOfCharge", "is required for the battery")
            soe = soe_from_percent(measurement.state_of_charge, capacity_kwh)
            return [Observation(BATTERY_SOE, soe, at)]
        case AssetKind.PV:
            return [Observation(SOLAR_NET_GENERATION_AC, measurement.energy_wh / 1000.0, at)]
        case _:
            return []
