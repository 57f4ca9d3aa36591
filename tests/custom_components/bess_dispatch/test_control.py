"""Schedules in over a real broker, control modes out as entities, events and a calendar."""

import json
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

# The integration's own copy of the protocol types: objects handed to the runtime must be
# of the classes it compares against (the top-level bess_dispatch_core is another module).
from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import (
    Command,
    ControlMode,
    Priority,
    ScheduleEntry,
)
from custom_components.bess_dispatch.const import DOMAIN
from custom_components.bess_dispatch.runtime import EVENT_MODE_CHANGED
from tests.plugins.mosquitto_broker import Broker

from .conftest import SITE, OptimizerClient, set_soc, setup_site

COMMAND_TOPIC = f"cmd/{SITE}/battery/power"
RESPONSE_TOPIC = f"res/{SITE}/command"


def entity_id(hass: HomeAssistant, platform: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{SITE}_gw-1_{key}")
    assert found is not None, key
    return found


def state(hass: HomeAssistant, platform: str, key: str) -> str:
    current = hass.states.get(entity_id(hass, platform, key))
    assert current is not None
    return current.state


def command(priority: Priority, slots: list[float], start_offset_min: int = 0) -> Command:
    now = dt_util.utcnow().replace(second=0, microsecond=0)
    start = now + timedelta(minutes=start_offset_min)
    entries = [
        ScheduleEntry(
            start + timedelta(minutes=30 * i), start + timedelta(minutes=30 * (i + 1)), power_kw=kw
        )
        for i, kw in enumerate(slots)
    ]
    return Command.create(
        command_id=f"test-{priority}-{dt_util.utcnow().timestamp()}",
        priority=priority,
        schedule=entries,
        now=dt_util.utcnow(),
    )


async def wait_for(hass: HomeAssistant, predicate: Any, within: float = 5.0) -> None:
    """Let the link thread hand over, then the loop process it."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
        await hass.async_block_till_done()


async def test_command_over_mqtt_is_answered_and_drives_the_entities(
    hass: HomeAssistant, mosquitto_broker: Broker, optimizer: OptimizerClient
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    runtime = entry.runtime_data.runtime
    await wait_for(hass, lambda: runtime.link_status.connected)
    assert state(hass, "binary_sensor", "broker_connected") == "on"
    assert state(hass, "sensor", "effective_mode") == "self_consumption"
    assert state(hass, "sensor", "control_source") == "fallback"
    assert state(hass, "binary_sensor", "following_schedule") == "off"

    cmd = command(Priority.INTRADAY, [-2.5, 1.0])
    optimizer.publish(COMMAND_TOPIC, cmd.to_payload())
    response = await optimizer.next_on(RESPONSE_TOPIC)
    assert response["status"] == "accepted"
    assert response["in_reply_to"] == cmd.envelope.message_id
    assert response["command_id"] == cmd.command_id
    await wait_for(hass, lambda: state(hass, "sensor", "effective_mode") == "setpoint")

    assert float(state(hass, "sensor", "setpoint")) == -2.5
    assert state(hass, "sensor", "control_source") == "p2"
    assert state(hass, "binary_sensor", "following_schedule") == "on"
    assert state(hass, "select", "control_mode") == "auto"
    assert dt_util.parse_datetime(state(hass, "sensor", "next_change")) == cmd.schedule[0].end
    assert (
        dt_util.parse_datetime(state(hass, "sensor", "schedule_horizon_end"))
        == cmd.schedule[-1].end
    )


async def test_bad_commands_get_rejections_with_codes_and_paths(
    hass: HomeAssistant, mosquitto_broker: Broker, optimizer: OptimizerClient
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    await wait_for(hass, lambda: entry.runtime_data.runtime.link_status.connected)

    optimizer.publish(COMMAND_TOPIC, b"{not json")
    response = await optimizer.next_on(RESPONSE_TOPIC)
    assert response["status"] == "rejected"
    assert response["errors"][0]["code"] == "MESSAGE_MALFORMED"

    bad = command(Priority.INTRADAY, [1.0, 2.0]).to_dict()
    bad["schedule"][1]["power_kw"] = "two"
    optimizer.publish(COMMAND_TOPIC, json.dumps(bad))
    response = await optimizer.next_on(RESPONSE_TOPIC)
    assert [(e["code"], e["path"]) for e in response["errors"]] == [
        ("TYPE_MISMATCH", "schedule[1].power_kw")
    ]
    assert state(hass, "sensor", "effective_mode") == "self_consumption"


async def test_schedule_boundaries_switch_modes_and_announce_them(
    hass: HomeAssistant, mosquitto_broker: Broker, freezer: FrozenDateTimeFactory
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    runtime = entry.runtime_data.runtime
    events: list[Event] = []
    hass.bus.async_listen(EVENT_MODE_CHANGED, events.append)
    cmd = command(Priority.DAY_AHEAD, [3.0], start_offset_min=0)
    idle = Command.create(
        command_id="idle-next",
        priority=Priority.DAY_AHEAD,
        schedule=[
            ScheduleEntry(
                cmd.schedule[0].end,
                cmd.schedule[0].end + timedelta(hours=1),
                mode=ControlMode.IDLE,
            )
        ],
        now=dt_util.utcnow(),
    )
    await runtime.async_handle_command_payload(cmd.to_payload())
    await runtime.async_handle_command_payload(idle.to_payload())
    await hass.async_block_till_done()
    assert state(hass, "sensor", "effective_mode") == "setpoint"
    event_entity = entity_id(hass, "event", "mode_change")
    assert hass.states.get(event_entity).attributes["event_type"] == "setpoint"  # type: ignore[union-attr]

    freezer.move_to(cmd.schedule[0].end + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, "sensor", "effective_mode") == "idle"
    assert [e.data["mode"] for e in events] == ["SETPOINT", "IDLE"]
    assert hass.states.get(event_entity).attributes["event_type"] == "idle"  # type: ignore[union-attr]

    freezer.move_to(idle.schedule[0].end + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, "sensor", "effective_mode") == "self_consumption"
    assert state(hass, "sensor", "control_source") == "fallback"


async def test_soe_updates_apply_the_hard_limits(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    await entry.runtime_data.runtime.async_handle_command_payload(
        command(Priority.INTRADAY, [-4.0]).to_payload()
    )
    await hass.async_block_till_done()
    assert float(state(hass, "sensor", "setpoint")) == -4.0
    set_soc(hass, 10)  # the owner's minimum
    await hass.async_block_till_done()
    assert float(state(hass, "sensor", "setpoint")) == 0.0
    hass.states.async_set("sensor.battery_soc", "unavailable")
    await hass.async_block_till_done()
    assert state(hass, "sensor", "effective_mode") == "self_consumption"


async def test_manual_mode_from_the_select_and_numbers(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    await entry.runtime_data.runtime.async_handle_command_payload(
        command(Priority.INTRADAY, [-1.0]).to_payload()
    )
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": entity_id(hass, "number", "manual_setpoint"), "value": 2.5},
        blocking=True,
    )
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": entity_id(hass, "select", "control_mode"), "option": "setpoint"},
        blocking=True,
    )
    assert state(hass, "sensor", "control_source") == "manual"
    assert float(state(hass, "sensor", "setpoint")) == 2.5
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": entity_id(hass, "number", "manual_setpoint"), "value": 1.5},
        blocking=True,
    )
    assert float(state(hass, "sensor", "setpoint")) == 1.5
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": entity_id(hass, "select", "control_mode"), "option": "auto"},
        blocking=True,
    )
    assert state(hass, "sensor", "control_source") == "p2"
    assert float(state(hass, "sensor", "setpoint")) == -1.0


async def test_set_control_mode_with_duration_expires_by_itself(
    hass: HomeAssistant, mosquitto_broker: Broker, freezer: FrozenDateTimeFactory
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    await hass.services.async_call(
        DOMAIN,
        "set_control_mode",
        {
            "config_entry_id": entry.entry_id,
            "mode": "limit_charge",
            "max_charge_kw": 1.2,
            "duration": {"minutes": 15},
        },
        blocking=True,
    )
    assert state(hass, "sensor", "effective_mode") == "limit_charge"
    assert state(hass, "select", "control_mode") == "limit_charge"
    freezer.tick(timedelta(minutes=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, "select", "control_mode") == "auto"
    assert state(hass, "sensor", "control_source") == "fallback"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"mode": "setpoint"}, "setpoint_needs_power"),
        ({"mode": "limit_charge"}, "limit_charge_needs_max"),
        ({"mode": "idle", "until": "2000-01-01T00:00:00+00:00"}, "until_in_past"),
    ],
)
async def test_set_control_mode_refuses_bad_input(
    hass: HomeAssistant, mosquitto_broker: Broker, data: dict[str, Any], key: str
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_control_mode",
            {"config_entry_id": entry.entry_id, **data},
            blocking=True,
        )
    assert raised.value.translation_key == key


async def test_unknown_entry_is_refused(hass: HomeAssistant, mosquitto_broker: Broker) -> None:
    await setup_site(hass, mosquitto_broker)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "clear_override", {"config_entry_id": "nope"}, blocking=True
        )
    assert raised.value.translation_key == "entry_not_found"


async def test_load_schedule_uses_the_command_validation(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    start = dt_util.utcnow().replace(microsecond=0)
    good = [
        {
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "mode": "NO_DISCHARGE",
        }
    ]
    result = await hass.services.async_call(
        DOMAIN,
        "load_schedule",
        {
            "config_entry_id": entry.entry_id,
            "priority": 2,
            "schedule": good,
            "command_id": "from-ha",
        },
        blocking=True,
        return_response=True,
    )
    assert result == {"command_id": "from-ha", "status": "accepted"}
    assert state(hass, "sensor", "effective_mode") == "no_discharge"

    overlapping = [
        *good,
        {
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
            "power_kw": 1,
        },
    ]
    with pytest.raises(ServiceValidationError, match="TIME_WINDOW_INVALID"):
        await hass.services.async_call(
            DOMAIN,
            "load_schedule",
            {"config_entry_id": entry.entry_id, "priority": 2, "schedule": overlapping},
            blocking=True,
        )
    with pytest.raises(ServiceValidationError, match="DUPLICATE"):
        await hass.services.async_call(
            DOMAIN,
            "load_schedule",
            {
                "config_entry_id": entry.entry_id,
                "priority": 2,
                "schedule": good,
                "command_id": "from-ha",
            },
            blocking=True,
        )


async def test_calendar_shows_the_resolved_blocks(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    cmd = command(Priority.DAY_AHEAD, [2.0, 2.0, -1.0])
    await entry.runtime_data.runtime.async_handle_command_payload(cmd.to_payload())
    await hass.async_block_till_done()
    calendar = entity_id(hass, "calendar", "schedule")
    assert hass.states.get(calendar).attributes["message"] == "SETPOINT +2.00 kW"  # type: ignore[union-attr]
    result = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": calendar,
            "start_date_time": cmd.schedule[0].start.isoformat(),
            "end_date_time": cmd.schedule[-1].end.isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    events = result[calendar]["events"]  # type: ignore[index]
    assert [e["summary"] for e in events] == ["SETPOINT +2.00 kW", "SETPOINT -1.00 kW"]


async def test_restart_resumes_the_same_entry(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    cmd = command(Priority.DAY_AHEAD, [1.7, 1.7])
    await entry.runtime_data.runtime.async_handle_command_payload(cmd.to_payload())
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert float(state(hass, "sensor", "setpoint")) == 1.7
    assert state(hass, "sensor", "control_source") == "p1"
