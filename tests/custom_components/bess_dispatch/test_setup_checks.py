"""A broker or Modbus device that is gone at start: "retrying set-up" with the reason, then
the entry comes up by itself once it answers (real Mosquitto, real pymodbus server)."""

from datetime import timedelta

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.bess_dispatch.const import DOMAIN
from tests.plugins.mosquitto_broker import Broker, MakeMosquittoBroker
from tests.plugins.sunspec_device import SunSpecDeviceServer

from .conftest import GATEWAY, SITE, add_source_sensors, entry_data, set_soc
from .test_control import wait_for
from .test_modbus_source import set_up_modbus_site


async def retry_until_loaded(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Let HA's own retry timer fire (its pause grows up to 80 s) until the entry loads."""
    for _ in range(3):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=90))
        # The retry connects from an executor thread in real time: poll, do not just block.
        await wait_for(
            hass,
            lambda: entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_RETRY),
            within=15.0,
        )
        if entry.state is ConfigEntryState.LOADED:
            return
    assert entry.state is ConfigEntryState.LOADED, entry.reason


def assert_retrying_naming(entry: MockConfigEntry, *names: str) -> None:
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    for name in names:
        assert name in entry.reason, entry.reason
    # The translated message, not its key.
    assert "retries by itself" in entry.reason, entry.reason


async def test_broker_gone_at_start_retries_with_the_reason_then_recovers(
    hass: HomeAssistant,
    make_mosquitto_broker: MakeMosquittoBroker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker: Broker = make_mosquitto_broker()
    broker.stop()
    set_soc(hass, 50)
    add_source_sensors(hass)
    entry = MockConfigEntry(domain=DOMAIN, unique_id=f"{SITE}/{GATEWAY}", data=entry_data(broker))
    entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert_retrying_naming(entry, f"{broker.host}:{broker.port}")
    assert "Error setting up entry" not in caplog.text
    # Nothing half-started is left behind: no outbox opened, no entities.
    assert not hass.states.async_entity_ids("select")

    broker.start()
    await retry_until_loaded(hass, entry)
    runtime = entry.runtime_data.runtime
    await wait_for(hass, lambda: runtime.link_status.connected)
    assert hass.states.async_entity_ids("select")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_modbus_device_gone_at_start_retries_with_the_reason_then_recovers(
    hass: HomeAssistant, mosquitto_broker: Broker, sunspec_device: SunSpecDeviceServer
) -> None:
    entry = await set_up_modbus_site(hass, mosquitto_broker, sunspec_device)
    # Home Assistant stops; at its next start the inverter is off the network.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await sunspec_device.stop()

    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert_retrying_naming(
        entry, f"{sunspec_device.host}:{sunspec_device.port} unit {sunspec_device.unit_id}"
    )

    await sunspec_device.start()
    await retry_until_loaded(hass, entry)
    telemetry = entry.runtime_data.telemetry
    await wait_for(hass, lambda: telemetry.soe_kwh() is not None)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_refused_credentials_are_not_a_retry(
    hass: HomeAssistant, make_mosquitto_broker: MakeMosquittoBroker
) -> None:
    """Waiting would not help: set-up goes on, and reauth asks for new credentials."""
    broker = make_mosquitto_broker(users={"gw": "right"})
    set_soc(hass, 50)
    add_source_sensors(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"{SITE}/{GATEWAY}",
        data=entry_data(broker) | {"username": "gw", "password": "wrong"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await wait_for(hass, lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)))
    assert await hass.config_entries.async_unload(entry.entry_id)
