"""The Home Assistant actuator against real HA scripts, input_number and input_select."""

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.bess_dispatch.bess_dispatch_core.gateway.actuator import (
    ActuatorUnavailable,
)
from custom_components.bess_dispatch.bess_dispatch_core.gateway.control_law import (
    ControlDecision,
    ControlSource,
)
from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import ControlMode
from custom_components.bess_dispatch.ha_actuator import HomeAssistantActuator

DISCHARGE = ControlDecision(
    mode=ControlMode.SETPOINT,
    source=ControlSource.P2,
    setpoint_kw=-2.5,
    max_charge_kw=5.0,
    max_discharge_kw=5.0,
    limited_by=frozenset(),
)


async def battery_script(hass: HomeAssistant) -> None:
    """A script that tells what it was called with as an event."""
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "battery": {
                    "sequence": [
                        {
                            "event": "battery_told",
                            "event_data": {
                                "mode": "{{ mode }}",
                                "setpoint_kw": "{{ setpoint_kw }}",
                                "source": "{{ source | default('none') }}",
                            },
                        }
                    ]
                }
            }
        },
    )


async def test_script_gets_every_decision_and_the_hand_back(hass: HomeAssistant) -> None:
    await battery_script(hass)
    told = async_capture_events(hass, "battery_told")
    actuator = HomeAssistantActuator(hass, script="script.battery")

    await actuator.apply(DISCHARGE)
    await actuator.release()
    await hass.async_block_till_done()

    assert [event.data for event in told] == [
        {"mode": "SETPOINT", "setpoint_kw": -2.5, "source": "p2"},
        {"mode": "SELF_CONSUMPTION", "setpoint_kw": "", "source": "none"},
    ]


async def test_a_missing_or_unavailable_target_is_reported_by_name(hass: HomeAssistant) -> None:
    with pytest.raises(ActuatorUnavailable, match=r"input_select\.gone"):
        await HomeAssistantActuator(hass, mode_select="input_select.gone").apply(DISCHARGE)
    hass.states.async_set("input_number.offline", "unavailable")
    with pytest.raises(ActuatorUnavailable, match=r"input_number\.offline"):
        await HomeAssistantActuator(hass, setpoint_number="input_number.offline").apply(DISCHARGE)


async def test_a_refused_service_call_is_reported(hass: HomeAssistant) -> None:
    """The select lacks the mode: HA refuses the option, the actuator says so."""
    assert await async_setup_component(
        hass, "input_select", {"input_select": {"inverter_mode": {"options": ["auto", "eco"]}}}
    )
    actuator = HomeAssistantActuator(hass, mode_select="input_select.inverter_mode")
    with pytest.raises(ActuatorUnavailable, match=r"select_option on input_select\.inverter_mode"):
        await actuator.apply(DISCHARGE)
