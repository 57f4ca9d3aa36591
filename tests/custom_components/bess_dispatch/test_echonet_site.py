"""A site read and driven over ECHONET Lite (the uEcho node on UDP) in a real Home
Assistant with a real broker: readings into telemetry, control writes seen by the battery,
a battery that stops answering (BATTERY_UNREACHABLE, nothing invented, back again), auto on
fallback and on unload."""

import json
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bess_dispatch import echonet_setup
from custom_components.bess_dispatch.const import DOMAIN
from custom_components.bess_dispatch.diagnostics import async_get_config_entry_diagnostics
from tests.helpers.asyncapi import validated
from tests.plugins.echonet_device import STORAGE_BATTERY, SimulatedEchonetNode
from tests.plugins.mosquitto_broker import Broker

from .conftest import GATEWAY, SITE, OptimizerClient, entry_data
from .test_config_flow import choose, form
from .test_control import wait_for
from .test_echonet_flow import node_form, to_echonet_step

AUTO, CHARGING = b"\x46", b"\x42"


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A silent node is noticed after 2 s instead of 5 s."""
    monkeypatch.setattr(echonet_setup, "REQUEST_TIMEOUT_S", 2.0)


async def set_up_echonet_site(
    hass: HomeAssistant, broker: Broker, node: SimulatedEchonetNode
) -> Any:
    result = await to_echonet_step(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], node_form(node))
    result = await choose(hass, result, "broker")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(broker))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["source_type"] == "echonet"
    assert result["data"]["echonet_metrics"]["battery_soe"] == "battery_soc_percent"
    return hass.config_entries.async_entries(DOMAIN)[0]


async def drive_with_echonet(hass: HomeAssistant, entry: Any, node: SimulatedEchonetNode) -> None:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_charging_allowed": True, "actuator": "echonet"}
    )
    assert result["step_id"] == "echonet_actuator"  # no sensor mapping for a device source
    suggested = {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }
    assert suggested["echonet_actuator_host"] == node.host  # the source node
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"echonet_actuator_host": node.host, "echonet_interface": node.client_host},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def set_mode(hass: HomeAssistant, entry: Any, power_kw: float) -> None:
    await hass.services.async_call(
        DOMAIN,
        "set_control_mode",
        {"config_entry_id": entry.entry_id, "mode": "setpoint", "power_kw": power_kw},
        blocking=True,
    )


def battery_mode(node: SimulatedEchonetNode) -> bytes:
    return node.value(STORAGE_BATTERY, 0xDA)


async def test_echonet_site_reads_drives_survives_silence_and_releases_to_auto(
    hass: HomeAssistant, mosquitto_broker: Broker, echonet_node: SimulatedEchonetNode
) -> None:
    client = OptimizerClient(mosquitto_broker)
    try:
        entry = await set_up_echonet_site(hass, mosquitto_broker, echonet_node)
        telemetry = entry.runtime_data.telemetry
        await wait_for(hass, lambda: telemetry.soe_kwh() is not None)
        assert telemetry.soe_kwh() == pytest.approx(5.5)  # 55 % of 10 kWh
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        echonet = diagnostics["telemetry"]["echonet"]
        assert echonet["host"] == echonet_node.host
        assert echonet["available"] is True
        assert "0xDA" in echonet["objects"]["0x027D01"]["set"]
        assert echonet["malformed_frames"] == 0
        telemetry.publish_now()
        topic = f"dt/{SITE}/{GATEWAY}/meter_import_ac/lifetime"
        validated(topic, json.dumps(await client.next_on(topic)).encode())

        # The battery written to auto while nothing is scheduled (the fallback), then a
        # manual setpoint as charging mode with its power written first.
        echonet_node.set(STORAGE_BATTERY, 0xDA, CHARGING, writable=True)
        await drive_with_echonet(hass, entry, echonet_node)
        await wait_for(hass, lambda: battery_mode(echonet_node) == AUTO, within=10)
        await set_mode(hass, entry, 2.0)
        await wait_for(hass, lambda: battery_mode(echonet_node) == CHARGING, within=10)
        assert echonet_node.value(STORAGE_BATTERY, 0xEB) == (2000).to_bytes(4, "big")

        # The battery stops answering: the gateway says so and invents nothing.
        echonet_node.silent = True
        await set_mode(hass, entry, 1.0)
        alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert", within=15)
        while alert["code"] != "BATTERY_UNREACHABLE":
            alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert", within=15)
        assert alert["active"] is True
        telemetry = entry.runtime_data.telemetry
        await wait_for(hass, lambda: telemetry.soe_kwh() is None, within=15)

        # Back: readings and control resume, the alert is cleared.
        echonet_node.silent = False
        await set_mode(hass, entry, 1.5)
        await wait_for(
            hass,
            lambda: echonet_node.value(STORAGE_BATTERY, 0xEB) == (1500).to_bytes(4, "big"),
            within=15,
        )
        alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert", within=15)
        while alert["code"] != "BATTERY_UNREACHABLE":
            alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert", within=15)
        assert alert["active"] is False
        await wait_for(hass, lambda: telemetry.soe_kwh() is not None, within=15)

        # Unload hands the battery back to its own control.
        assert await hass.config_entries.async_unload(entry.entry_id)
        assert battery_mode(echonet_node) == AUTO
    finally:
        client.close()


async def test_a_refused_write_is_battery_unreachable(
    hass: HomeAssistant, mosquitto_broker: Broker, echonet_node: SimulatedEchonetNode
) -> None:
    client = OptimizerClient(mosquitto_broker)
    try:
        entry = await set_up_echonet_site(hass, mosquitto_broker, echonet_node)
        await drive_with_echonet(hass, entry, echonet_node)
        echonet_node.refuse(STORAGE_BATTERY, 0xDA)
        await set_mode(hass, entry, 2.0)
        alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert", within=15)
        while alert["code"] != "BATTERY_UNREACHABLE":
            alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert", within=15)
        assert alert["active"] is True
        assert "0xDA" in alert["message"]
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        client.close()


async def test_the_actuator_step_refuses_a_node_without_battery_control(
    hass: HomeAssistant, mosquitto_broker: Broker, echonet_node: SimulatedEchonetNode
) -> None:
    entry = await set_up_echonet_site(hass, mosquitto_broker, echonet_node)
    echonet_node.remove(STORAGE_BATTERY, 0xDA)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_charging_allowed": True, "actuator": "echonet"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"echonet_actuator_host": echonet_node.host, "echonet_interface": echonet_node.client_host},
    )
    assert result["errors"] == {"base": "echonet_no_battery_control"}
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_port_it_cannot_open_makes_set_up_retry_naming_why(
    hass: HomeAssistant, mosquitto_broker: Broker, echonet_node: SimulatedEchonetNode
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{SITE} / {GATEWAY}",
        unique_id=f"{SITE}/{GATEWAY}",
        data=entry_data(mosquitto_broker)
        | {
            "has_load": False,
            "source_type": "echonet",
            "echonet_host": echonet_node.host,
            # On no interface here: the socket cannot be bound (nothing is sent).
            "echonet_interface": "198.51.100.7",
            "source_interval_s": 5,
            "echonet_metrics": {"meter_import_ac": "grid_import_kwh"},
        },
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "The ECHONET Lite client cannot start" in (entry.reason or "")
    assert "cannot use 198.51.100.7" in (entry.reason or "")
