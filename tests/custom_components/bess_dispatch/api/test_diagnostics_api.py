"""Diagnostics show the stop and the events, but not who the utility users are."""

import json

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.plugins.mosquitto_broker import Broker

from .conftest import SITE_API, make_api
from .test_demand_response_api import EVENTS, event


async def test_diagnostics_carry_stop_and_events_without_people(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    aiohttp_client: ClientSessionGenerator,
    hass_client: ClientSessionGenerator,
    socket_enabled: None,
) -> None:
    # Before any client freezes HA's router.
    assert await async_setup_component(hass, "diagnostics", {})
    api = await make_api(hass, mosquitto_broker, aiohttp_client)
    status, body, _ = await api.call("utility", "POST", EVENTS, event(start_h=2, event_id="d1"))
    assert status == 201, body
    await api.call("homeowner", "POST", f"{SITE_API}/emergency_stop")
    diagnostics = await get_diagnostics_for_config_entry(api.hass, hass_client, api.entry)
    dispatcher = diagnostics["dispatcher"]
    assert dispatcher["emergency_stop"] is True
    assert [e["event_id"] for e in dispatcher["demand_response"]] == ["d1"]
    text = json.dumps(diagnostics)
    assert api.users["utility"].id not in text
    assert "Grid Co" not in text
