"""The site's Pleevi ``device_list`` entry for the battery, built from the gateway's settings.

Pleevi's units: powers in W, capacity in Wh, efficiencies in (0, 1], priorities 1-10. Every
value is checked against those ranges here (the JSON Schema ``device_entry.schema.json``
says the same for any peer); a value out of range raises :class:`PleeviValueError` naming
the Pleevi field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PleeviValueError, echo, efficiency, positive, priority, text
from .policies import SocPolicy, policies_from_list

BESS_TYPE = "battery_energy_storage_system"
DEFAULT_PRIORITY = 5


@dataclass(frozen=True, slots=True)
class BatteryDeviceEntry:
    """One BESS device of a Pleevi site configuration, in Pleevi's units."""

    name: str
    collector: str
    charging_efficiency: float
    discharging_efficiency: float
    maximum_charging_power: float  # W
    maximum_discharging_power: float  # W
    operational_battery_capacity: float  # Wh
    charging_priority: int = DEFAULT_PRIORITY
    discharging_priority: int = DEFAULT_PRIORITY
    policies: tuple[SocPolicy, ...] = ()

    def __post_init__(self) -> None:
        text("name", self.name)
        text("collector", self.collector)
        efficiency("charging_efficiency", self.charging_efficiency)
        efficiency("discharging_efficiency", self.discharging_efficiency)
        positive("maximum_charging_power", self.maximum_charging_power)
        positive("maximum_discharging_power", self.maximum_discharging_power)
        positive("operational_battery_capacity", self.operational_battery_capacity)
        priority("charging_priority", self.charging_priority)
        priority("discharging_priority", self.discharging_priority)
        for index, policy in enumerate(self.policies):
            if not isinstance(policy, SocPolicy):
                raise PleeviValueError(
                    f"policies[{index}]", f"must be a policy, got {echo(policy)}"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "collector": self.collector,
            "type": BESS_TYPE,
            "charging_efficiency": self.charging_efficiency,
            "discharging_efficiency": self.discharging_efficiency,
            "maximum_charging_power": self.maximum_charging_power,
            "maximum_discharging_power": self.maximum_discharging_power,
            "operational_battery_capacity": self.operational_battery_capacity,
            "charging_priority": self.charging_priority,
            "discharging_priority": self.discharging_priority,
            "policies": [policy.to_dict() for policy in self.policies],
        }

    @classmethod
    def from_dict(cls, data: object, field: str = "device") -> BatteryDeviceEntry:
        """Validate a device entry read from a Pleevi site configuration."""
        if not isinstance(data, Mapping):
            raise PleeviValueError(field, f"must be an object, got {echo(data)}")
        if data.get("type") != BESS_TYPE:
            raise PleeviValueError(
                f"{field}.type", f"must be {BESS_TYPE!r}, got {echo(data.get('type'))}"
            )
        policies = policies_from_list(data.get("policies", []), f"{field}.policies")
        try:
            return cls(
                name=data.get("name"),  # type: ignore[arg-type]
                collector=data.get("collector"),  # type: ignore[arg-type]
                charging_efficiency=data.get("charging_efficiency"),  # type: ignore[arg-type]
                discharging_efficiency=data.get("discharging_efficiency"),  # type: ignore[arg-type]
                maximum_charging_power=data.get("maximum_charging_power"),  # type: ignore[arg-type]
                maximum_discharging_power=data.get("maximum_discharging_power"),  # type: ignore[arg-type]
                operational_battery_capacity=data.get("operational_battery_capacity"),  # type: ignore[arg-type]
                charging_priority=data.get("charging_priority", DEFAULT_PRIORITY),
                discharging_priority=data.get("discharging_priority", DEFAULT_PRIORITY),
                policies=policies,
            )
        except PleeviValueError as error:
            raise PleeviValueError(f"{field}.{error.field}", str(error).split(": ", 1)[1]) from None


def battery_device_entry(
    *,
    name: str,
    collector: str,
    capacity_kwh: float,
    max_charge_kw: float,
    max_discharge_kw: float,
    charging_efficiency: float = 0.95,
    discharging_efficiency: float = 0.95,
    charging_priority: int = DEFAULT_PRIORITY,
    discharging_priority: int = DEFAULT_PRIORITY,
    policies: Sequence[SocPolicy] = (),
) -> BatteryDeviceEntry:
    """The entry from the gateway's own units (kWh, kW); PleeviValueError names the field."""
    return BatteryDeviceEntry(
        name=name,
        collector=collector,
        charging_efficiency=charging_efficiency,
        discharging_efficiency=discharging_efficiency,
        maximum_charging_power=_scaled("maximum_charging_power", max_charge_kw, 1000.0),
        maximum_discharging_power=_scaled("maximum_discharging_power", max_discharge_kw, 1000.0),
        operational_battery_capacity=_scaled("operational_battery_capacity", capacity_kwh, 1000.0),
        charging_priority=charging_priority,
        discharging_priority=discharging_priority,
        policies=tuple(policies),
    )


def _scaled(field: str, value: float, factor: float) -> float:
    return round(positive(field, value) * factor, 3)
