"""A Pleevi site configuration -> the model's battery; bad input names the field."""

from __future__ import annotations

from typing import Any

import pytest

from bess_dispatch_core.pleevi import PleeviValueError, battery_device_entry
from optimizer.pleevi.site_description import parse_site_description


def _bess(**changes: Any) -> dict[str, Any]:
    entry = battery_device_entry(
        name="Battery", collector="c", capacity_kwh=13.5, max_charge_kw=5, max_discharge_kw=4.6
    ).to_dict()
    return entry | changes


def test_the_one_bess_device_becomes_the_models_battery() -> None:
    site = {"device_list": [{"name": "PV", "type": "photovoltaic"}, _bess()]}
    battery = parse_site_description(site).battery(6.0, soe_min_percent=10)
    assert (battery.capacity_kwh, battery.charge_max_kw, battery.discharge_max_kw) == (
        13.5,
        5.0,
        4.6,
    )
    assert (battery.charge_efficiency, battery.discharge_efficiency) == (0.95, 0.95)
    assert battery.soe_min_kwh == pytest.approx(1.35)
    assert battery.soe_initial_kwh == 6.0


@pytest.mark.parametrize(
    ("site", "field"),
    [
        ([], "site"),
        ({"device_list": {}}, "device_list"),
        ({"device_list": []}, "device_list"),
        ({"device_list": [_bess(), _bess()]}, "device_list"),
        ({"device_list": [_bess(charging_efficiency=1.5)]}, "device_list[0].charging_efficiency"),
        (
            {"device_list": [{"type": "pv"}, _bess(maximum_charging_power=0)]},
            "device_list[1].maximum_charging_power",
        ),
        ({"device_list": [_bess(policies=[{"type": "x"}])]}, "device_list[0].policies[0].type"),
        (
            {"device_list": [_bess(discharging_priority=True)]},
            "device_list[0].discharging_priority",
        ),
    ],
)
def test_bad_site_descriptions_are_refused_naming_the_field(site: object, field: str) -> None:
    with pytest.raises(PleeviValueError) as caught:
        parse_site_description(site)
    assert caught.value.field == field
