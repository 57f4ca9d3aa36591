"""The battery's device_list entry: Pleevi's units and ranges, every refusal names the field."""

from __future__ import annotations

from datetime import time
from typing import Any

import jsonschema
import pytest

from bess_dispatch_core.pleevi import (
    BatteryDeviceEntry,
    PleeviValueError,
    Recurrence,
    SocPolicy,
    battery_device_entry,
)
from bess_dispatch_core.pleevi.schemas import device_entry_schema

MORNING = SocPolicy(80, 100, (time(6, 0),), Recurrence.WEEKDAYS)


def _entry(**changes: Any) -> BatteryDeviceEntry:
    values: dict[str, Any] = {
        "name": "Battery",
        "collector": "site-1.gw-1",
        "capacity_kwh": 10.0,
        "max_charge_kw": 5.0,
        "max_discharge_kw": 4.5,
        "policies": (MORNING,),
    }
    return battery_device_entry(**(values | changes))


def _validator() -> jsonschema.Draft202012Validator:
    schema = device_entry_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_entry_is_in_pleevi_units_and_matches_the_schema() -> None:
    data = _entry().to_dict()
    _validator().validate(data)
    assert data == {
        "name": "Battery",
        "collector": "site-1.gw-1",
        "type": "battery_energy_storage_system",
        "charging_efficiency": 0.95,
        "discharging_efficiency": 0.95,
        "maximum_charging_power": 5000.0,
        "maximum_discharging_power": 4500.0,
        "operational_battery_capacity": 10000.0,
        "charging_priority": 5,
        "discharging_priority": 5,
        "policies": [
            {
                "type": "scheduled_soc",
                "minimum_soc": 80,
                "maximum_soc": 100,
                "schedule": {"times": ["06:00"], "recurrence": "weekdays"},
            }
        ],
    }
    assert BatteryDeviceEntry.from_dict(data) == _entry()


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("charging_efficiency", {"charging_efficiency": 0.0}),
        ("discharging_efficiency", {"discharging_efficiency": 1.01}),
        ("maximum_charging_power", {"max_charge_kw": 0.0}),
        ("maximum_discharging_power", {"max_discharge_kw": -1.0}),
        ("operational_battery_capacity", {"capacity_kwh": float("nan")}),
        ("charging_priority", {"charging_priority": 0}),
        ("discharging_priority", {"discharging_priority": 11}),
        ("name", {"name": " "}),
    ],
)
def test_values_out_of_pleevis_ranges_are_refused_naming_the_field(
    field: str, changes: dict[str, Any]
) -> None:
    with pytest.raises(PleeviValueError) as caught:
        _entry(**changes)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("device.charging_efficiency", {"charging_efficiency": 0}),
        ("device.maximum_discharging_power", {"maximum_discharging_power": 0}),
        ("device.operational_battery_capacity", {"operational_battery_capacity": -5}),
        ("device.charging_priority", {"charging_priority": 1.5}),
        ("device.type", {"type": "photovoltaic"}),
        (
            "device.policies[0].minimum_soc",
            {"policies": [{**MORNING.to_dict(), "minimum_soc": 101}]},
        ),
        (
            "device.policies[0].maximum_soc",
            {"policies": [{**MORNING.to_dict(), "maximum_soc": -1}]},
        ),
        (
            "device.policies[0].schedule.times[0]",
            {"policies": [{**MORNING.to_dict(), "schedule": {"times": ["24:00"]}}]},
        ),
        (
            "device.policies[0].schedule.recurrence",
            {
                "policies": [
                    {**MORNING.to_dict(), "schedule": {"times": ["06:00"], "recurrence": "monthly"}}
                ]
            },
        ),
    ],
)
def test_a_received_entry_is_refused_by_schema_and_parser(
    field: str, change: dict[str, Any]
) -> None:
    bad = _entry().to_dict() | change
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(bad)
    with pytest.raises(PleeviValueError) as caught:
        BatteryDeviceEntry.from_dict(bad)
    assert caught.value.field == field


def test_a_policy_with_min_above_max_is_refused() -> None:
    with pytest.raises(PleeviValueError, match=r"^minimum_soc: must be <= maximum_soc"):
        SocPolicy(90, 80, (time(6, 0),))
    with pytest.raises(PleeviValueError, match=r"^schedule.times: needs at least one"):
        SocPolicy(10, 80, ())
