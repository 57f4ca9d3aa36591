"""A site described by a Pleevi site configuration in the add-on's options."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bess_dispatch_core.pleevi import battery_device_entry
from bess_dispatch_core.pleevi.policies import Recurrence
from optimizer.settings.options import OptionsError, options_to_dict, parse_options

from .test_options import RESOURCES, example

MORNING = {
    "type": "scheduled_soc",
    "minimum_soc": 80,
    "maximum_soc": 100,
    "schedule": {"times": ["06:00"], "recurrence": "weekdays"},
}


def pleevi_site(**changes: Any) -> dict[str, Any]:
    entry = battery_device_entry(
        name="home-battery",
        collector="gw",
        capacity_kwh=13.5,
        max_charge_kw=5.0,
        max_discharge_kw=4.6,
        charging_efficiency=0.96,
        discharging_efficiency=0.94,
    ).to_dict()
    entry["policies"] = [MORNING]
    return {"device_list": [{"name": "roof", "type": "photovoltaic"}, entry | changes]}


def options_with(site_changes: dict[str, Any], *, drop_battery: bool = True) -> dict[str, Any]:
    options = example("options_own_two_sites.json")
    site = options["sites"][0]
    if drop_battery:
        for key in ("battery_capacity_kwh", "max_charge_kw", "max_discharge_kw"):
            site.pop(key)
        site.pop("round_trip_efficiency")
    site.update(site_changes)
    return options


@pytest.mark.parametrize("as_text", [False, True], ids=["object", "json-text"])
def test_pleevi_site_describes_the_battery_and_its_policies(as_text: bool) -> None:
    described = pleevi_site()
    value = json.dumps(described) if as_text else described
    site = parse_options(options_with({"pleevi_site": value})).sites[0]
    assert (site.battery_capacity_kwh, site.max_charge_kw, site.max_discharge_kw) == (
        13.5,
        5.0,
        4.6,
    )
    assert (site.charge_efficiency, site.discharge_efficiency) == (0.96, 0.94)
    assert site.round_trip_efficiency == pytest.approx(0.96 * 0.94)
    assert len(site.policies) == 1
    assert site.policies[0].recurrence is Recurrence.WEEKDAYS
    # options_to_dict keeps the description (and not the battery fields a second time).
    again = parse_options(options_to_dict(parse_options(options_with({"pleevi_site": value}))))
    assert again.sites[0] == site


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"pleevi_site": pleevi_site(charging_efficiency=1.5)},
            "sites[0].pleevi_site.device_list[1].charging_efficiency: must be in (0, 1], got 1.5",
        ),
        (
            {"pleevi_site": pleevi_site(charging_priority=11)},
            "sites[0].pleevi_site.device_list[1].charging_priority: must be an integer in [1, 10]",
        ),
        (
            {"pleevi_site": pleevi_site(policies=[MORNING | {"minimum_soc": 120}])},
            "sites[0].pleevi_site.device_list[1].policies[0].minimum_soc: must be in [0, 100]",
        ),
        ({"pleevi_site": "{not json"}, "sites[0].pleevi_site: is not JSON"),
        ({"pleevi_site": {"device_list": []}}, "sites[0].pleevi_site.device_list: must hold"),
    ],
)
def test_bad_pleevi_sites_are_refused_naming_the_field(
    change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(OptionsError) as caught:
        parse_options(options_with(change))
    assert any(text.startswith(problem) for text in caught.value.problems), caught.value.problems


def test_the_battery_is_not_stated_twice() -> None:
    with pytest.raises(OptionsError) as caught:
        parse_options(options_with({"pleevi_site": pleevi_site()}, drop_battery=False))
    assert (
        "sites[0].battery_capacity_kwh: must be left out when pleevi_site describes the battery"
        in caught.value.problems
    )


def test_without_pleevi_site_the_battery_fields_are_required() -> None:
    with pytest.raises(OptionsError) as caught:
        parse_options(options_with({}))
    assert "sites[0].battery_capacity_kwh: is required" in caught.value.problems
    assert RESOURCES.is_dir()


def test_pleevi_topic_is_read_checked_and_written_back() -> None:
    options = parse_options(
        options_with({"pleevi_topic": "pleevi/{site_id}/{asset_id}"}, drop_battery=False)
    )
    template = options.sites[0].pleevi_topic
    assert template is not None
    assert template.subscription("A") == "pleevi/A/+"
    assert parse_options(options_to_dict(options)).sites[0].pleevi_topic == template
    for bad, why in (
        ("pleevi/{site_id}", "must contain {asset_id}"),
        ("pleevi/x{asset_id}", "{asset_id} must be a whole topic level"),
        ("pleevi/#/{asset_id}", "must not contain"),
    ):
        with pytest.raises(OptionsError) as caught:
            parse_options(options_with({"pleevi_topic": bad}, drop_battery=False))
        assert any(
            text.startswith("sites[0].pleevi_topic: ") and why in text
            for text in caught.value.problems
        ), caught.value.problems
