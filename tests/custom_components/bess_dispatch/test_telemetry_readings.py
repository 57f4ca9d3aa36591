"""What the gateway makes of its HA sources' readings: text and infinities are no reading,
a source that is away keeps the unit the registry remembers, a measured remaining capacity
is a stored energy, and a damaged saved state does not stop the site."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bess_dispatch.bess_dispatch_core.gateway.metric_source import (
    SourceQuantity,
)
from custom_components.bess_dispatch.const import DOMAIN
from tests.plugins.mosquitto_broker import Broker

from .conftest import GATEWAY, SITE, add_source_sensors, entry_data, set_soc, setup_site


def entry_with(hass: HomeAssistant, data: dict[str, Any], entry_id: str) -> MockConfigEntry:
    set_soc(hass, 50)
    add_source_sensors(hass)
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=f"{SITE}/{GATEWAY}", data=data, entry_id=entry_id
    )
    entry.add_to_hass(hass)
    return entry


@pytest.mark.parametrize("bad", ["not a number", "inf", "nan", "-inf"])
async def test_a_reading_that_is_no_finite_number_makes_the_metric_unavailable(
    hass: HomeAssistant, mosquitto_broker: Broker, bad: str
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    telemetry = entry.runtime_data.telemetry
    assert "meter_import_ac" not in telemetry.pipeline.unavailable_since()
    attributes = {"unit_of_measurement": "kWh", "state_class": "total_increasing"}

    hass.states.async_set("sensor.meter_import_ac", bad, attributes)
    await hass.async_block_till_done()
    assert "meter_import_ac" in telemetry.pipeline.unavailable_since()

    hass.states.async_set("sensor.meter_import_ac", "1000.5", attributes)
    await hass.async_block_till_done()
    assert "meter_import_ac" not in telemetry.pipeline.unavailable_since()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_source_away_at_start_keeps_the_unit_the_registry_remembers(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    """A power sensor whose integration has not loaded yet: still integrated as power."""
    registry = er.async_get(hass)
    away = registry.async_get_or_create(
        "sensor",
        "other",
        "grid-power",
        suggested_object_id="grid_power",
        unit_of_measurement="kW",
    )
    data = entry_data(mosquitto_broker)
    data["sources"] = data["sources"] | {"meter_import_ac": away.entity_id}
    entry = entry_with(hass, data, "registry-unit")
    assert hass.states.get(away.entity_id) is None

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    telemetry = entry.runtime_data.telemetry
    assert telemetry.quantities["meter_import_ac"] is SourceQuantity.POWER
    assert "meter_import_ac" in telemetry.pipeline.unavailable_since()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_measured_remaining_capacity_is_a_stored_energy(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    hass.states.async_set("sensor.battery_capacity", "9.6", {"unit_of_measurement": "kWh"})
    data = entry_data(mosquitto_broker)
    data["sources"] = data["sources"] | {"battery_energy_remaining": "sensor.battery_capacity"}
    entry = entry_with(hass, data, "measured-capacity")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    telemetry = entry.runtime_data.telemetry
    assert telemetry.quantities["battery_energy_remaining"] is SourceQuantity.ENERGY_STATE
    assert not telemetry.nameplate_remaining
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_damaged_saved_telemetry_state_is_logged_and_the_site_starts_fresh(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass_storage[f"{DOMAIN}.damaged.telemetry"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.damaged.telemetry",
        "data": {"pipeline": {"counters": "not a mapping"}, "alerts": []},
    }
    entry = entry_with(hass, entry_data(mosquitto_broker), "damaged")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert f"Stored telemetry state for {SITE} is unreadable" in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_what_is_sent_is_saved_before_it_is_queued(
    hass: HomeAssistant, mosquitto_broker: Broker, hass_storage: dict[str, Any]
) -> None:
    """A Home Assistant killed right after a send restarts from at least what it sent: the
    saved state is the one the queued messages were made from, with no stop or delay."""
    entry = await setup_site(hass, mosquitto_broker)
    telemetry = entry.runtime_data.telemetry
    key = f"{DOMAIN}.{entry.entry_id}.telemetry"
    hass.states.async_set(
        "sensor.meter_import_ac",
        "1002.5",
        {"unit_of_measurement": "kWh", "state_class": "total_increasing"},
    )
    await hass.async_block_till_done()
    assert telemetry.publish_now() > 0
    await hass.async_block_till_done()
    assert hass_storage[key]["data"]["pipeline"] == telemetry.pipeline.to_dict()
    assert await hass.config_entries.async_unload(entry.entry_id)
