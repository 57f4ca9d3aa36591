"""Demand-response events through real HTTP: taken at the p2 level, reported back."""

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.bess_dispatch.api.demand_response_views import EVENT_DEMAND_RESPONSE

from .conftest import SITE_API, Api
from .openapi_schemas import assert_error, assert_matches
from .test_control_api import schedule, snapshot

EVENTS = f"{SITE_API}/demand_response"


def event(
    kind: str = "discharge", start_h: float = 0, hours: float = 1, power: float = 2.0, **extra: Any
) -> dict[str, Any]:
    start = dt_util.utcnow() + timedelta(hours=start_h)
    return {
        "kind": kind,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        "power_kw": power,
    } | extra


async def test_discharge_event_outranks_every_schedule_and_is_reported(api: Api) -> None:
    fired: list[Event] = []
    api.hass.bus.async_listen(EVENT_DEMAND_RESPONSE, fired.append)
    await schedule(api, 3.0)
    status, body, _ = await api.call("utility", "POST", EVENTS, event(event_id="peak-1"))
    assert status == 201, body
    assert_matches("Event", body)
    assert body["status"] == "active"
    assert body["requested_by"] == "Grid Co"
    assert body["battery"]["following_event"] is True
    assert body["battery"]["setpoint_kw"] == -2.0
    # A newer intraday schedule does not replace the event.
    await schedule(api, 4.0)
    _, status_body, _ = await api.call("homeowner", "GET", f"{SITE_API}/status")
    assert status_body["control"]["source"] == "demand_response"
    assert status_body["demand_response_event"] == "peak-1"
    await api.hass.async_block_till_done()
    assert [e.data["event_id"] for e in fired] == ["peak-1"]


async def test_owner_opts_out_with_a_manual_mode_and_the_event_says_so(api: Api) -> None:
    await api.call("utility", "POST", EVENTS, event(event_id="peak-2"))
    await api.call("homeowner", "POST", f"{SITE_API}/mode", {"mode": "no_discharge"})
    status, body, _ = await api.call("utility", "GET", f"{EVENTS}/peak-2")
    assert status == 200, body
    assert body["battery"]["following_event"] is False
    assert body["battery"]["overridden_by"] == "manual"


async def test_reduce_charge_event_limits_charging(api: Api) -> None:
    await schedule(api, 4.0)
    status, body, _ = await api.call("installer", "POST", EVENTS, event("reduce_charge", power=1))
    assert status == 201, body
    assert body["battery"]["effective_mode"] == "limit_charge"
    assert body["battery"]["max_charge_kw"] == 1.0


async def test_event_starts_and_ends_on_time(api: Api, freezer: FrozenDateTimeFactory) -> None:
    status, body, _ = await api.call("utility", "POST", EVENTS, event(start_h=1, event_id="later"))
    assert status == 201, body
    assert body["status"] == "scheduled"
    assert "battery" not in body
    freezer.tick(timedelta(hours=1, seconds=1))
    async_fire_time_changed(api.hass)
    await api.hass.async_block_till_done()
    assert api.runtime.state.decision.source.value == "demand_response"
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(api.hass)
    await api.hass.async_block_till_done()
    assert api.runtime.state.decision.source.value == "fallback"
    # (The test's access tokens have expired by now: HA's own 30-minute lifetime.)
    ended = api.runtime.dispatcher.demand_response.get("later")
    assert ended.status(dt_util.utcnow()).value == "completed"


async def test_cancel_list_and_conflicts(api: Api) -> None:
    await api.call("utility", "POST", EVENTS, event(event_id="a"))
    before = snapshot(api)
    clashes = ((event(event_id="a", start_h=5), "event_id"), (event(start_h=0.5), "start"))
    for clash, field in clashes:
        status, body, _ = await api.call("utility", "POST", EVENTS, clash)
        assert status == 409, body
        assert_error(body, "BESS_CONFLICT", field)
    assert snapshot(api) == before
    status, body, _ = await api.call("utility", "DELETE", f"{EVENTS}/a")
    assert status == 200, body
    assert body["status"] == "cancelled"
    assert api.runtime.state.decision.source.value == "fallback"
    status, body, _ = await api.call("utility", "DELETE", f"{EVENTS}/a")
    assert status == 409, body
    status, body, _ = await api.call("utility", "DELETE", f"{EVENTS}/nope")
    assert status == 404, body
    assert_error(body, "BESS_NOT_FOUND")
    status, body, _ = await api.call("homeowner", "GET", f"{EVENTS}/nope")
    assert status == 404, body
    status, body, _ = await api.call("homeowner", "GET", EVENTS)
    assert status == 200, body
    assert [e["status"] for e in body["events"]] == ["cancelled"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in event().items() if k != "kind"}, "kind"),
        (event("charge"), "kind"),
        ({k: v for k, v in event().items() if k != "start"}, "start"),
        (event() | {"start": "soon"}, "start"),
        (event() | {"end": "2030-01-01T00:00:00"}, "end"),
        (event(hours=-1), "end"),
        (event(hours=25), "end"),
        (event(start_h=-3, hours=1), "end"),
        (event(start_h=24 * 8), "start"),
        (event(power=-1), "power_kw"),
        (event() | {"power_kw": "2"}, "power_kw"),
        (event(event_id="has space"), "event_id"),
        (event(event_id=5), "event_id"),
        (event(event_id="x" * 65), "event_id"),
        (event(priority=2), "priority"),
    ],
)
async def test_bad_event_field_is_400_and_changes_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    before = snapshot(api)
    status, answer, _ = await api.call("utility", "POST", EVENTS, body)
    assert status == 400, answer
    assert_error(answer, "BESS_INVALID_FIELD", field)
    assert snapshot(api) == before
