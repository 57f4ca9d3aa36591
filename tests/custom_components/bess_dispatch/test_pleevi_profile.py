"""The Pleevi profile in a real Home Assistant over a real broker: options, measurements on
the installer's topics, the device-entry action, diagnostics, and the round trip to the
optimizer's site."""

import asyncio
import json
import math
from datetime import timedelta
from typing import Any

import jsonschema
import numpy as np
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.bess_dispatch.bess_dispatch_core.pleevi.schemas import (
    device_entry_schema,
    measurement_schema,
)
from custom_components.bess_dispatch.const import DOMAIN
from optimizer.model import optimize
from optimizer.pleevi.site_description import parse_site_description
from optimizer.service.planner import battery_of
from optimizer.settings.site import SiteSettings, UseCase
from optimizer.site import Battery, Grid, Site, Tariff, Topology
from tests.plugins.mosquitto_broker import Broker

from .conftest import BATTERY_DATA, GATEWAY, SITE, SOE_SENSOR, OptimizerClient, setup_site
from .test_telemetry import STEP, collect, set_reading

PLEEVI = {"telemetry_profile": "pleevi", "pleevi_topic_template": "pleevi/{site_id}/{asset_id}"}
ASSETS = {f"{SITE}-battery", f"{SITE}-pv", f"{SITE}-grid_meter", f"{SITE}-load"}


async def test_pleevi_profile_sends_every_assets_measurements_on_the_template_topic(
    hass: HomeAssistant, mosquitto_broker: Broker, optimizer: OptimizerClient
) -> None:
    now = dt_util.utcnow()
    start = now - timedelta(minutes=11)
    entry = await setup_site(hass, mosquitto_broker, options=PLEEVI, readings_at=start)
    meters = [
        entity_id for metric, entity_id in entry.data["sources"].items() if metric != "battery_soe"
    ]
    at, step = start, 0
    while at + STEP <= now:
        at += STEP
        step += 1
        for entity_id in meters:
            set_reading(hass, entity_id, 1000.0 + 0.05 * step, "kWh", at)
        set_reading(hass, SOE_SENSOR, 50.0 + 0.2 * step, "%", at)
    async_fire_time_changed(hass, now + timedelta(minutes=2))
    received = await collect(optimizer, hass, 2.0)

    validator = jsonschema.Draft202012Validator(measurement_schema())
    seen: set[str] = set()
    for topic, payload in received:
        if topic.startswith("dt/"):
            # Alerts still go to the protocol's alert topic; telemetry does not.
            assert topic.endswith("/alert"), topic
            continue
        data = json.loads(payload)
        validator.validate(data)
        assert topic == f"pleevi/{SITE}/{data['assetId']}"
        assert ("currentStateOfCharge" in data) == (data["assetId"] == f"{SITE}-battery")
        seen.add(data["assetId"])
    assert seen == ASSETS

    # publish_now sends the Pleevi measurements too.
    response = await hass.services.async_call(
        DOMAIN,
        "publish_now",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response == {"messages": 4}


async def test_options_refuse_a_bad_topic_template_naming_the_field(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    assert entry.runtime_data.telemetry.pleevi is None  # the protocol is the default
    result = await hass.config_entries.options.async_init(entry.entry_id)
    base = {"grid_charging_allowed": True, "actuator": "none", "telemetry_profile": "pleevi"}
    for bad in ("pleevi/{site_id}", "pleevi/+/{asset_id}", "pleevi/{gateway}/{asset_id}"):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], base | {"pleevi_topic_template": bad}
        )
        assert result["step_id"] == "init"
        assert result["errors"] == {"pleevi_topic_template": "invalid_topic_template"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], base | {"pleevi_topic_template": "sites/{site_id}/{asset_id}"}
    )
    assert result["step_id"] == "sources"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(entry.data["sources"])
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["telemetry_profile"] == "pleevi"
    assert entry.runtime_data.telemetry.pleevi is not None


async def test_action_and_diagnostics_give_the_device_entry_and_the_optimizer_plans_it(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker, options=PLEEVI)
    device = await hass.services.async_call(
        DOMAIN,
        "pleevi_device_entry",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert device is not None
    jsonschema.Draft202012Validator(device_entry_schema()).validate(device)
    assert device["name"] == f"{SITE}-battery"
    assert device["collector"] == GATEWAY
    assert device["operational_battery_capacity"] == 10_000.0  # Wh
    assert device["maximum_charging_power"] == 5_000.0  # W
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["pleevi"] == {
        "telemetry_profile": "pleevi",
        "topic_template": "pleevi/{site_id}/{asset_id}",
        "device_entry": device,
    }

    # Round trip: the device entry, read as a Pleevi site description by the optimizer,
    # is the same battery as the add-on's own site options describe.
    described = parse_site_description({"device_list": [device]})
    soe = 4.0
    pleevi_battery = described.battery(
        soe,
        soe_min_percent=BATTERY_DATA["soe_min_pct"],
        soe_max_percent=BATTERY_DATA["soe_max_pct"],
    )
    settings = SiteSettings(
        site_id=SITE,
        gateway_id=GATEWAY,
        use_case=UseCase.STANDALONE,
        battery_capacity_kwh=BATTERY_DATA["usable_kwh"],
        max_charge_kw=BATTERY_DATA["max_charge_kw"],
        max_discharge_kw=BATTERY_DATA["max_discharge_kw"],
        min_soe_percent=BATTERY_DATA["soe_min_pct"],
        max_soe_percent=BATTERY_DATA["soe_max_pct"],
        round_trip_efficiency=0.95 * 0.95,
        has_load=False,
        gateway_password=None,
    )
    own_battery = battery_of(settings, soe, terminal_value=0.0)
    for field in ("capacity_kwh", "charge_max_kw", "discharge_max_kw", "soe_initial_kwh"):
        assert getattr(pleevi_battery, field) == getattr(own_battery, field), field
    for field in ("soe_min_kwh", "soe_max", "charge_efficiency", "discharge_efficiency"):
        assert math.isclose(getattr(pleevi_battery, field), getattr(own_battery, field)), field
    plans = [optimize(_trading_site(battery)) for battery in (pleevi_battery, own_battery)]
    assert plans[0].objective == pytest.approx(plans[1].objective, abs=1e-6)
    np.testing.assert_allclose(plans[0].battery_kw, plans[1].battery_kw, atol=1e-6)


def _trading_site(battery: Battery) -> Site:
    prices: Any = np.tile([10.0, 10.0, 30.0, 30.0], 12)
    return Site.build(
        topology=Topology.STAND_ALONE,
        battery=battery,
        grid=Grid(import_max_kw=20.0, export_max_kw=20.0),
        tariff=Tariff.of(prices, prices),
    )


async def test_outage_delivers_every_pleevi_measurement_once_newest_first(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    """The protocol's outage test with the Pleevi profile: half an hour of measurements
    while the broker is down, then every one arrives, once, the newest of each asset first."""
    now = dt_util.utcnow()
    entry = await setup_site(hass, mosquitto_broker, options=PLEEVI, readings_at=now)
    telemetry = entry.runtime_data.telemetry
    runtime = entry.runtime_data.runtime
    for _ in range(100):
        if runtime.link_status.connected:
            break
        await asyncio.sleep(0.02)
    mosquitto_broker.stop()
    for _ in range(100):
        if not runtime.link_status.connected:
            break
        await asyncio.sleep(0.02)
        await hass.async_block_till_done()
    meters = [e for metric, e in entry.data["sources"].items() if metric != "battery_soe"]
    for minute in range(1, 31):  # a reading and a send every minute (the default cadence)
        at = now + timedelta(minutes=minute)
        for entity_id in meters:
            set_reading(hass, entity_id, 1000.0 + 0.05 * minute, "kWh", at)
        set_reading(hass, SOE_SENSOR, 30.0 + 0.5 * minute, "%", at)
        async_fire_time_changed(hass, at + timedelta(seconds=1))
        await hass.async_block_till_done()
    await hass.async_add_executor_job(lambda: None)  # let the outbox writes land
    await asyncio.sleep(0.3)
    outbox = telemetry.outbox
    assert outbox is not None
    queued = [
        m.payload
        for m in await hass.async_add_executor_job(outbox.newest, 100_000)
        if m.topic.startswith("pleevi/")
    ]
    assert len(queued) >= 30 * 4

    mosquitto_broker.start()
    client = OptimizerClient(mosquitto_broker)
    received: list[tuple[str, bytes]] = []
    try:
        for _ in range(60):  # the backlog drains at 20 messages/s
            received += await collect(client, hass, 1.0)
            if set(queued) <= {payload for _, payload in received}:
                break
        received += await collect(client, hass, 1.0)  # a duplicate would show now
    finally:
        client.close()
    measurements = [(t, p) for t, p in received if t.startswith("pleevi/")]
    validator = jsonschema.Draft202012Validator(measurement_schema())
    keys = []
    for _topic, payload in measurements:
        data = json.loads(payload)
        validator.validate(data)
        keys.append((data["assetId"], data["timestamp"]))
    assert len(keys) == len(set(keys)), "a measurement arrived twice"
    assert set(queued) <= {payload for _, payload in measurements}, "a measurement was lost"
    # Recent first: each asset's first measurement after the outage is its newest.
    first: dict[str, str] = {}
    latest: dict[str, str] = {}
    for asset, timestamp in keys:
        first.setdefault(asset, timestamp)
        latest[asset] = max(latest.get(asset, timestamp), timestamp)
    assert first == latest
    assert set(first) == ASSETS
