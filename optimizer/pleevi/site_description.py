"""A Pleevi site configuration (``device_list`` with one BESS device) -> the model's battery.

Pleevi's units become the model's: W -> kW, Wh -> kWh; its efficiencies are one-way, as the
model's are. Other device types in the list are not ours to plan and are ignored; a list
without exactly one BESS device is refused, naming ``device_list``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bess_dispatch_core.pleevi import BatteryDeviceEntry, PleeviValueError
from bess_dispatch_core.pleevi.device_entry import BESS_TYPE
from bess_dispatch_core.pleevi.errors import echo
from bess_dispatch_core.units import soe_from_percent

from ..site import Battery

# A site configuration lists a site's devices: hundreds at most; more is not one.
MAX_DEVICES = 1_000


@dataclass(frozen=True, slots=True)
class PleeviSiteDescription:
    """The battery of a Pleevi site, in the model's units."""

    entry: BatteryDeviceEntry

    @property
    def capacity_kwh(self) -> float:
        return self.entry.operational_battery_capacity / 1000.0

    @property
    def charge_max_kw(self) -> float:
        return self.entry.maximum_charging_power / 1000.0

    @property
    def discharge_max_kw(self) -> float:
        return self.entry.maximum_discharging_power / 1000.0

    def battery(
        self,
        soe_kwh: float,
        *,
        soe_min_percent: float = 0.0,
        soe_max_percent: float = 100.0,
        terminal_value_per_kwh: float = 0.0,
    ) -> Battery:
        """The model's battery at ``soe_kwh`` (clamped into the capacity: a reading may be
        a little off) with the owner's hard SoE window."""
        capacity = self.capacity_kwh
        return Battery(
            capacity_kwh=capacity,
            charge_max_kw=self.charge_max_kw,
            discharge_max_kw=self.discharge_max_kw,
            soe_initial_kwh=min(max(soe_kwh, 0.0), capacity),
            soe_min_kwh=soe_from_percent(soe_min_percent, capacity),
            soe_max_kwh=soe_from_percent(soe_max_percent, capacity),
            charge_efficiency=self.entry.charging_efficiency,
            discharge_efficiency=self.entry.discharging_efficiency,
            terminal_value_per_kwh=terminal_value_per_kwh,
        )


def parse_site_description(data: object) -> PleeviSiteDescription:
    """Validate a site configuration; PleeviValueError names the field (``device_list[i]…``)."""
    if not isinstance(data, Mapping):
        raise PleeviValueError("site", f"must be an object, got {echo(data)}")
    devices = data.get("device_list")
    if not isinstance(devices, list):
        raise PleeviValueError("device_list", f"must be a list, got {echo(devices)}")
    if len(devices) > MAX_DEVICES:
        raise PleeviValueError("device_list", f"at most {MAX_DEVICES} devices")
    batteries = [
        (index, device)
        for index, device in enumerate(devices)
        if isinstance(device, Mapping) and device.get("type") == BESS_TYPE
    ]
    if len(batteries) != 1:
        raise PleeviValueError(
            "device_list", f"must hold exactly one {BESS_TYPE}, found {len(batteries)}"
        )
    index, device = batteries[0]
    return PleeviSiteDescription(BatteryDeviceEntry.from_dict(device, f"device_list[{index}]"))
