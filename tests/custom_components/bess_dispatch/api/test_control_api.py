"""Control through real HTTP: manual mode with until, charge limit, emergency stop; every bad
field is a 400 naming it, a hard-limit conflict a 409, and a refused request changes nothing."""

import json
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import (
    Command,
    Priority,
    ScheduleEntry,
)
from custom_components.bess_dispatch.const import DOMAIN
from custom_components.bess_dispatch.runtime import dispatcher_store

from ..conftest import GATEWAY, SITE
from .conftest import SITE_API, Api
from .openapi_schemas import assert_error, assert_matches


def sensor(hass: HomeAssistant, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{SITE}_{GATEWAY}_{key}")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def schedule(api: Api, power_kw: float) -> None:
    now = dt_util.utcnow().replace(microsecond=0)
    command = Command.create(
        command_id=f"p2-{now.timestamp()}-{power_kw}",
        priority=Priority.INTRADAY,
        schedule=[ScheduleEntry(now, now + timedelta(hours=2), power_kw=power_kw)],
        now=now,
    )
    response = await api.runtime.async_handle_command_payload(command.to_payload())
    assert response.status == "accepted"


def snapshot(api: Api) -> tuple[Any, ...]:
    runtime = api.runtime
    return (
        json.dumps(runtime.dispatcher.to_dict(), sort_keys=True),
        runtime.manual_setpoint_kw,
        runtime.manual_charge_limit_kw,
        runtime.state.decision if runtime.state else None,
    )


async def test_manual_setpoint_until_a_time(api: Api) -> None:
    until = (dt_util.utcnow() + timedelta(hours=2)).replace(microsecond=0)
    status, body, _ = await api.call(
        "homeowner",
        "POST",
        f"{SITE_API}/mode",
        {"mode": "setpoint", "power_kw": -2.5, "until": until.isoformat()},
    )
    assert status == 200, body
    assert_matches("Status", body)
    assert body["control"]["effective_mode"] == "setpoint"
    assert body["control"]["source"] == "manual"
    assert body["control"]["setpoint_kw"] == -2.5
    assert dt_util.parse_datetime(body["manual_override"]["until"]) == until
    assert sensor(api.hass, "effective_mode") == "setpoint"
    status, body, _ = await api.call("installer", "POST", f"{SITE_API}/mode", {"mode": "auto"})
    assert status == 200, body
    assert body["manual_override"] is None
    assert body["control"]["source"] == "fallback"


async def test_charge_limit(api: Api) -> None:
    status, body, _ = await api.call(
        "homeowner", "POST", f"{SITE_API}/charge_limit", {"max_charge_kw": 1.5}
    )
    assert status == 200, body
    assert body["control"]["effective_mode"] == "limit_charge"
    assert body["control"]["max_charge_kw"] == 1.5
    assert api.runtime.manual_charge_limit_kw == 1.5
    assert sensor(api.hass, "effective_mode") == "limit_charge"


async def test_emergency_stop_outranks_schedule_and_manual_mode_until_cleared(api: Api) -> None:
    await schedule(api, 3.0)
    await api.call("homeowner", "POST", f"{SITE_API}/mode", {"mode": "setpoint", "power_kw": -4})
    status, body, _ = await api.call("homeowner", "POST", f"{SITE_API}/emergency_stop")
    assert status == 200, body
    assert body["emergency_stop"] is True
    assert body["control"] == body["control"] | {
        "effective_mode": "emergency_stop",
        "source": "emergency_stop",
        "setpoint_kw": 0.0,
        "max_charge_kw": 0.0,
        "max_discharge_kw": 0.0,
    }
    await api.hass.async_block_till_done()
    assert sensor(api.hass, "effective_mode") == "emergency_stop"
    assert sensor(api.hass, "control_source") == "emergency_stop"
    # A new schedule does not lift it either.
    await schedule(api, -5.0)
    assert api.runtime.state.decision.source.value == "emergency_stop"
    # Held across a restart of the entry.
    stored = await dispatcher_store(api.hass, api.entry.entry_id).async_load()
    assert stored is not None
    assert stored["emergency_stop"] is True
    assert await api.hass.config_entries.async_reload(api.entry.entry_id)
    await api.hass.async_block_till_done()
    assert sensor(api.hass, "effective_mode") == "emergency_stop"
    status, body, _ = await api.call("installer", "DELETE", f"{SITE_API}/emergency_stop")
    assert status == 200, body
    assert body["emergency_stop"] is False
    # The manual mode the owner had set comes back.
    assert body["control"]["source"] == "manual"
    assert body["control"]["setpoint_kw"] == -4


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("mode", {"mode": "idle"}),
        ("mode", {"mode": "auto"}),
        ("charge_limit", {"max_charge_kw": 1}),
        (
            "demand_response",
            {
                "kind": "discharge",
                "start": dt_util.utcnow().isoformat(),
                "end": (dt_util.utcnow() + timedelta(hours=1)).isoformat(),
                "power_kw": 1,
            },
        ),
    ],
)
async def test_control_while_stopped_is_409_and_changes_nothing(
    api: Api, path: str, body: dict[str, Any]
) -> None:
    await api.call("homeowner", "POST", f"{SITE_API}/emergency_stop")
    before = snapshot(api)
    status, answer, _ = await api.call("installer", "POST", f"{SITE_API}/{path}", body)
    assert status == 409, answer
    assert_error(answer, "BESS_EMERGENCY_STOP_ACTIVE")
    assert snapshot(api) == before


def _at(hours: float) -> str:
    return (dt_util.utcnow() + timedelta(hours=hours)).isoformat()


BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("mode", {}, "mode"),
    ("mode", {"mode": 5}, "mode"),
    ("mode", {"mode": "turbo"}, "mode"),
    ("mode", {"mode": "setpoint"}, "power_kw"),
    ("mode", {"mode": "setpoint", "power_kw": "2"}, "power_kw"),
    ("mode", {"mode": "setpoint", "power_kw": True}, "power_kw"),
    ("mode", {"mode": "setpoint", "power_kw": float("nan")}, "power_kw"),
    ("mode", {"mode": "idle", "power_kw": 1}, "power_kw"),
    ("mode", {"mode": "limit_charge"}, "max_charge_kw"),
    ("mode", {"mode": "limit_charge", "max_charge_kw": -1}, "max_charge_kw"),
    ("mode", {"mode": "setpoint", "power_kw": 1, "max_charge_kw": 1}, "max_charge_kw"),
    ("mode", {"mode": "idle", "until": "tomorrow"}, "until"),
    ("mode", {"mode": "idle", "until": 1700000000}, "until"),
    ("mode", {"mode": "idle", "until": "2030-01-01T00:00:00"}, "until"),
    ("mode", {"mode": "idle", "until": _at(-1)}, "until"),
    ("mode", {"mode": "idle", "until": _at(24 * 40)}, "until"),
    ("mode", {"mode": "auto", "until": _at(1)}, "until"),
    ("mode", {"mode": "idle", "colour": "red"}, "colour"),
    ("mode", [1, 2], "body"),
    ("charge_limit", {}, "max_charge_kw"),
    ("charge_limit", {"max_charge_kw": None}, "max_charge_kw"),
    ("charge_limit", {"max_charge_kw": -0.1}, "max_charge_kw"),
    ("charge_limit", {"max_charge_kw": 1, "until": _at(-2)}, "until"),
    ("emergency_stop", {"why": "test"}, "why"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD_FIELDS)
async def test_bad_input_is_400_naming_the_field_and_changes_nothing(
    api: Api, path: str, body: Any, field: str
) -> None:
    await api.call("homeowner", "POST", f"{SITE_API}/mode", {"mode": "setpoint", "power_kw": 1})
    before = snapshot(api)
    status, answer, _ = await api.call("homeowner", "POST", f"{SITE_API}/{path}", body)
    assert status == 400, answer
    assert_error(answer, "BESS_INVALID_FIELD", field)
    assert field in answer["error"]["message"]
    assert snapshot(api) == before


async def test_body_that_is_not_json_or_too_large(api: Api) -> None:
    client = api.clients["homeowner"]
    response = await client.post(f"{SITE_API}/mode", data=b"{mode:")
    assert response.status == 400
    assert_error(await response.json(), "BESS_INVALID_JSON")
    response = await client.post(f"{SITE_API}/mode", data=b" " * 20_000)
    assert response.status == 413
    assert_error(await response.json(), "BESS_BODY_TOO_LARGE")


@pytest.mark.parametrize(
    ("path", "body", "field", "limit"),
    [
        ("mode", {"mode": "setpoint", "power_kw": 5.5}, "power_kw", "charge_power"),
        ("mode", {"mode": "setpoint", "power_kw": -5.5}, "power_kw", "discharge_power"),
        ("mode", {"mode": "limit_charge", "max_charge_kw": 6}, "max_charge_kw", "charge_power"),
        ("charge_limit", {"max_charge_kw": 6}, "max_charge_kw", "charge_power"),
        (
            "demand_response",
            {"kind": "discharge", "start": _at(1), "end": _at(2), "power_kw": 5.01},
            "power_kw",
            "discharge_power",
        ),
        (
            "demand_response",
            {"kind": "reduce_charge", "start": _at(1), "end": _at(2), "power_kw": 7},
            "power_kw",
            "charge_power",
        ),
    ],
)
async def test_hard_limit_conflict_is_409_and_changes_nothing(
    api: Api, path: str, body: dict[str, Any], field: str, limit: str
) -> None:
    await schedule(api, 2.0)
    before = snapshot(api)
    status, answer, _ = await api.call("installer", "POST", f"{SITE_API}/{path}", body)
    assert status == 409, answer
    assert_error(answer, "BESS_HARD_LIMIT", field)
    assert answer["error"]["details"]["limit"] == limit
    assert snapshot(api) == before
