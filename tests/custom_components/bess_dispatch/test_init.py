"""An entry's life cycle in a real Home Assistant: set-up refusals, HA stop, removal."""

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bess_dispatch.const import DOMAIN
from custom_components.bess_dispatch.telemetry import outbox_path
from tests.plugins.mosquitto_broker import Broker

from .conftest import (
    GATEWAY,
    SITE,
    OptimizerClient,
    add_source_sensors,
    entry_data,
    set_soc,
    setup_site,
)
from .test_control import state, wait_for
from .test_runtime_commands import answer_to, p2


def entry_with(hass: HomeAssistant, data: dict[str, object]) -> MockConfigEntry:
    set_soc(hass, 50)
    add_source_sensors(hass)
    entry = MockConfigEntry(domain=DOMAIN, unique_id=f"{SITE}/{GATEWAY}", data=data)
    entry.add_to_hass(hass)
    return entry


async def test_without_home_assistants_mqtt_the_entry_waits_for_it(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = entry_with(hass, entry_data(mosquitto_broker) | {"broker_type": "home_assistant"})
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert entry.reason.startswith("Home Assistant's MQTT integration is not available yet")


async def test_an_unusable_tls_file_fails_set_up_naming_the_field(
    hass: HomeAssistant, mosquitto_broker: Broker, tmp_path: Path
) -> None:
    """Retrying cannot fix a missing CA file: set-up fails and says which file."""
    missing = tmp_path / "gone-ca.pem"
    entry = entry_with(hass, entry_data(mosquitto_broker) | {"tls": True, "ca_file": str(missing)})
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "ca_file" in entry.reason, entry.reason


async def test_home_assistant_stopping_saves_the_schedules_and_stops_the_link(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    optimizer: OptimizerClient,
    hass_storage: dict[str, Any],
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    runtime = entry.runtime_data.runtime
    await wait_for(hass, lambda: runtime.link_status.connected)
    # A real command from the optimizer, over the broker: 1.5 kW now.
    document = p2(1.5)
    assert (await answer_to(optimizer, document))["status"] == "accepted"
    await wait_for(hass, lambda: state(hass, "sensor", "setpoint") == "1.5")
    key = f"{DOMAIN}.{entry.entry_id}.dispatcher"
    hass_storage.pop(key, None)  # whatever set-up wrote: the stop must write it again

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    # The broker sees a clean goodbye, not a dropped connection.
    await hass.async_add_executor_job(
        mosquitto_broker.wait_for_log,
        f"Received DISCONNECT from bess-dispatch-{SITE}-{GATEWAY}",
        10.0,
    )
    assert entry.runtime_data.telemetry.outbox is None
    saved = json.loads(json.dumps(hass_storage[key]))  # as it would be read from disk
    assert document["command_id"] in json.dumps(saved["data"])

    # Started again from what the stop saved, with no optimizer to resend it: it comes back.
    optimizer.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass_storage[key] = saved
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, "sensor", "setpoint") == "1.5"
    assert state(hass, "sensor", "control_source") == "p2"


async def test_removing_the_entry_deletes_its_schedules_and_queued_telemetry(
    hass: HomeAssistant, mosquitto_broker: Broker, hass_storage: dict[str, Any]
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    outbox = outbox_path(hass, entry.entry_id)
    stored = {f"{DOMAIN}.{entry.entry_id}.{kind}" for kind in ("dispatcher", "telemetry")}
    assert outbox.exists()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert stored <= set(hass_storage)

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not outbox.exists()
    assert not stored & set(hass_storage)
