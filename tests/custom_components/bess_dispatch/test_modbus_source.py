"""Readings straight from a SunSpec device (a real pymodbus server) into telemetry."""

import threading
from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.bess_dispatch.bess_dispatch_core.sunspec import scanner
from custom_components.bess_dispatch.bess_dispatch_core.sunspec.definitions import (
    load_model_definition,
)
from custom_components.bess_dispatch.const import DOMAIN
from tests.helpers.asyncapi import validated
from tests.plugins.mosquitto_broker import Broker
from tests.plugins.sunspec_device import PlainModbusServer, SunSpecDeviceServer

from .conftest import BATTERY_DATA, GATEWAY, SITE, SITE_DATA, OptimizerClient
from .test_config_flow import choose, form
from .test_control import wait_for


def device(server: SunSpecDeviceServer) -> dict[str, Any]:
    return {
        "source_host": server.host,
        "source_port": server.port,
        "source_unit_id": server.unit_id,
        "source_interval_s": 1,
    }


async def to_modbus_step(hass: HomeAssistant, has_load: bool, use_case: str = "ac_link") -> Any:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SITE_DATA | {"has_load": has_load, "use_case": use_case}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], BATTERY_DATA)
    return await choose(hass, result, "modbus_source")


async def set_up_modbus_site(
    hass: HomeAssistant, broker: Broker, server: SunSpecDeviceServer
) -> config_entries.ConfigEntry:
    """A site without a load, read from ``server``, set up through the whole config flow."""
    result = await to_modbus_step(hass, has_load=False)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], device(server))
    result = await choose(hass, result, "broker")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(broker))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["source_type"] == "modbus"
    return hass.config_entries.async_entries(DOMAIN)[0]


async def test_a_dc_link_site_with_a_load_needs_sensors_the_device_lacks(
    hass: HomeAssistant, sunspec_device: SunSpecDeviceServer
) -> None:
    result = await to_modbus_step(hass, has_load=True, use_case="dc_link")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], device(sunspec_device)
    )
    assert result["errors"] == {"base": "modbus_missing_metrics"}
    missing = result["description_placeholders"]["missing"]
    assert "load_demand_ac" in missing
    assert "inverter_to_load_ac" in missing


async def test_an_ac_link_home_reads_its_load_from_the_device(
    hass: HomeAssistant, mosquitto_broker: Broker, sunspec_device: SunSpecDeviceServer
) -> None:
    simulation = sunspec_device.simulation
    simulation.ac_coupled = True
    simulation.pv_w, simulation.load_w, simulation.own_battery_w = 1_000.0, 2_200.0, -700.0
    result = await to_modbus_step(hass, has_load=True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], device(sunspec_device)
    )
    result = await choose(hass, result, "broker")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form(mosquitto_broker)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["modbus_metrics"]["load_demand_ac"] == "ac_coupled_load_power_w"
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    registry = er.async_get(hass)
    # The load's power (kW) as its own entity, and the part the grid supplies.
    expected = {"load_demand_ac_power": 2.2, "grid_to_load_ac_power": 0.5}
    entities = {
        key: registry.async_get_entity_id("sensor", DOMAIN, f"{SITE}_{GATEWAY}_{key}")
        for key in expected
    }
    assert None not in entities.values(), entities

    def value(key: str) -> float | None:
        state = hass.states.get(entities[key] or "")
        try:
            return float(state.state) if state is not None else None
        except ValueError:
            return None

    await wait_for(hass, lambda: all(value(key) is not None for key in expected))
    assert {key: value(key) for key in expected} == pytest.approx(expected)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_modbus_device_without_sunspec_is_refused(
    hass: HomeAssistant, modbus_server_without_sunspec: PlainModbusServer
) -> None:
    result = await to_modbus_step(hass, has_load=False)
    server = modbus_server_without_sunspec
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "source_host": server.host,
            "source_port": server.port,
            "source_unit_id": server.unit_id,
            "source_interval_s": 10,
        },
    )
    assert result["errors"] == {"base": "not_sunspec"}


async def test_unreachable_device_is_named(hass: HomeAssistant, socket_enabled: None) -> None:
    result = await to_modbus_step(hass, has_load=False)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "source_host": "127.0.0.1",
            "source_port": 1,
            "source_unit_id": 1,
            "source_interval_s": 10,
        },
    )
    assert result["errors"] == {"base": "modbus_cannot_connect"}


async def test_device_readings_become_telemetry(
    hass: HomeAssistant, mosquitto_broker: Broker, sunspec_device: SunSpecDeviceServer
) -> None:
    client = OptimizerClient(mosquitto_broker)
    try:
        entry = await set_up_modbus_site(hass, mosquitto_broker, sunspec_device)
        telemetry = entry.runtime_data.telemetry
        # The SoE of the simulated battery reaches the control law through the pipeline.
        await wait_for(hass, lambda: telemetry.soe_kwh() is not None)
        assert entry.runtime_data.runtime.site_state().soe_kwh == telemetry.soe_kwh()

        # The battery flows come from its power reading: a power entity shows it.
        registry = er.async_get(hass)
        power_entity = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{SITE}_{GATEWAY}_battery_charge_ac_power"
        )
        assert power_entity is not None
        await wait_for(
            hass,
            lambda: (
                (hass.states.get(power_entity) or State("x", "unknown")).state
                not in ("unknown", "unavailable")
            ),
        )
        # Named by its translation, not by the raw metric key.
        power_state = hass.states.get(power_entity)
        assert power_state is not None
        assert power_state.attributes["friendly_name"].endswith("Battery charge power (AC)")

        telemetry.publish_now()
        topic = f"dt/{SITE}/{GATEWAY}/meter_import_ac/lifetime"
        lifetime = await client.next_on(topic)
        import json

        validated(topic, json.dumps(lifetime).encode())
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        client.close()


async def test_scanning_reads_the_model_definitions_off_the_event_loop(
    hass: HomeAssistant, sunspec_device: SunSpecDeviceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A definition's first load reads pysunspec2's JSON: never on HA's event loop."""
    threads: list[threading.Thread] = []

    def spy(model_id: int) -> Any:
        threads.append(threading.current_thread())
        return load_model_definition(model_id)

    monkeypatch.setattr(scanner, "load_model_definition", spy)
    result = await to_modbus_step(hass, has_load=False)
    await hass.config_entries.flow.async_configure(result["flow_id"], device(sunspec_device))
    assert threads
    assert all(thread is not threading.main_thread() for thread in threads)
