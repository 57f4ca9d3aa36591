"""Decisions reach the battery: Home Assistant entities, or a SunSpec inverter over Modbus."""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import Priority
from tests.plugins.mosquitto_broker import Broker
from tests.plugins.sunspec_device import SunSpecDeviceServer

from .conftest import setup_site
from .test_control import command, state, wait_for


async def configure_actuator(
    hass: HomeAssistant, entry: MockConfigEntry, kind: str, target: dict[str, Any]
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_charging_allowed": True, "actuator": kind}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(entry.data["sources"])
    )
    assert result["step_id"] == f"{kind}_actuator"
    result = await hass.config_entries.options.async_configure(result["flow_id"], target)
    await hass.async_block_till_done()
    return dict(result)


async def test_home_assistant_actuator_sets_the_number_and_select(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    assert await async_setup_component(
        hass,
        "input_number",
        {"input_number": {"inverter_setpoint": {"min": -10, "max": 10, "step": 0.01}}},
    )
    modes = ["setpoint", "no_discharge", "limit_charge", "idle", "self_consumption"]
    assert await async_setup_component(
        hass, "input_select", {"input_select": {"inverter_mode": {"options": modes}}}
    )
    entry = await setup_site(hass, mosquitto_broker)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_charging_allowed": True, "actuator": "home_assistant"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(entry.data["sources"])
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "no_actuator_target"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "actuator_setpoint_number": "input_number.inverter_setpoint",
            "actuator_mode_select": "input_select.inverter_mode",
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY

    await entry.runtime_data.runtime.async_handle_command_payload(
        command(Priority.INTRADAY, [-3.25]).to_payload()
    )
    await wait_for(
        hass,
        lambda: hass.states.get("input_number.inverter_setpoint").state == "-3.25",  # type: ignore[union-attr]
    )
    assert float(hass.states.get("input_number.inverter_setpoint").state) == -3.25  # type: ignore[union-attr]
    assert hass.states.get("input_select.inverter_mode").state == "setpoint"  # type: ignore[union-attr]


async def test_modbus_actuator_is_checked_then_drives_the_inverter(
    hass: HomeAssistant, mosquitto_broker: Broker, sunspec_device: SunSpecDeviceServer
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    wrong_port = {"modbus_host": "127.0.0.1", "modbus_port": 1, "modbus_unit_id": 1}
    result = await configure_actuator(hass, entry, "modbus", wrong_port)
    assert result["errors"] == {"base": "modbus_cannot_connect"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "modbus_host": sunspec_device.host,
            "modbus_port": sunspec_device.port,
            "modbus_unit_id": sunspec_device.unit_id,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY

    simulation = sunspec_device.simulation
    await entry.runtime_data.runtime.async_handle_command_payload(
        command(Priority.INTRADAY, [2.0]).to_payload()
    )
    # The rates land before the mode bits: wait for the battery to actually follow.
    await wait_for(hass, lambda: abs(simulation.battery_power_w - 2000) < 50)
    assert simulation.controls_active
    assert state(hass, "sensor", "effective_mode") == "setpoint"


async def test_unreachable_inverter_is_reported_as_resource_unavailable(
    hass: HomeAssistant, mosquitto_broker: Broker, sunspec_device: SunSpecDeviceServer
) -> None:
    from .conftest import SITE, OptimizerClient

    client = OptimizerClient(mosquitto_broker)
    try:
        entry = await setup_site(hass, mosquitto_broker)
        await configure_actuator(
            hass,
            entry,
            "modbus",
            {
                "modbus_host": sunspec_device.host,
                "modbus_port": sunspec_device.port,
                "modbus_unit_id": sunspec_device.unit_id,
            },
        )
        runtime = entry.runtime_data.runtime
        await sunspec_device.stop()
        cmd = command(Priority.INTRADAY, [1.0])
        await runtime.async_handle_command_payload(cmd.to_payload())
        accepted = await client.next_on(f"res/{SITE}/command")
        assert accepted["status"] == "accepted"
        later = await client.next_on(f"res/{SITE}/command", within=15)
        assert later["command_id"] == cmd.command_id
        assert [e["code"] for e in later["errors"]] == ["RESOURCE_UNAVAILABLE"]
    finally:
        client.close()
