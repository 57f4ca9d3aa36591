"""The per-user rate limit: set in the options flow, enforced through real HTTP."""

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.bess_dispatch.api.rate_limit import RateLimiter, retry_after_header
from tests.plugins.mosquitto_broker import Broker

from .conftest import SITE_API, Api, make_api
from .openapi_schemas import assert_error
from .test_control_api import snapshot


async def set_api_options(api: Api, **api_options: Any) -> None:
    """Through the real options flow (init step, then the sources step)."""
    hass, entry = api.hass, api.entry
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_charging_allowed": True, "actuator": "none"} | api_options
    )
    assert result["step_id"] == "sources"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(entry.data["sources"])
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.fixture
async def limited(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    aiohttp_client: ClientSessionGenerator,
    socket_enabled: None,
) -> Api:
    api = await make_api(hass, mosquitto_broker, aiohttp_client)
    await set_api_options(
        api, api_rate_limit_per_min=3, api_utility_users=[api.users["utility"].id]
    )
    return api


async def test_options_flow_offers_the_api_settings(limited: Api) -> None:
    assert limited.entry.options["api_rate_limit_per_min"] == 3
    assert limited.entry.options["api_utility_users"] == [limited.users["utility"].id]
    with pytest.raises(InvalidData):
        await set_api_options(limited, api_rate_limit_per_min=0)


async def test_over_the_limit_is_429_with_retry_after_per_user(limited: Api) -> None:
    for _ in range(3):
        status, body, _ = await limited.call("homeowner", "GET", f"{SITE_API}/status")
        assert status == 200, body
    before = snapshot(limited)
    status, body, headers = await limited.call(
        "homeowner", "POST", f"{SITE_API}/mode", {"mode": "idle"}
    )
    assert status == 429, body
    assert_error(body, "BESS_RATE_LIMITED")
    assert body["error"]["details"]["limit_per_minute"] == 3
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert snapshot(limited) == before
    # Another user has a budget of their own.
    status, body, _ = await limited.call("installer", "GET", f"{SITE_API}/status")
    assert status == 200, body


def test_window_slides_and_refusals_are_not_counted() -> None:
    limiter = RateLimiter()
    assert [limiter.check("u", 2, t) for t in (0.0, 10.0)] == [None, None]
    assert limiter.check("u", 2, 30.0) == pytest.approx(30.0)
    assert limiter.check("u", 2, 59.0) == pytest.approx(1.0)
    assert limiter.check("u", 2, 60.0) is None  # the first request left the window
    assert limiter.check("u", 2, 61.0) == pytest.approx(9.0)
    assert limiter.check("v", 2, 61.0) is None
    assert retry_after_header(0.2) == "1"
    assert retry_after_header(9.0) == "9"
    assert retry_after_header(9.1) == "10"


def test_a_lower_limit_after_a_burst_waits_for_enough_requests_to_leave() -> None:
    limiter = RateLimiter()
    for t in range(5):
        assert limiter.check("u", 10, float(t)) is None
    # Limit lowered to 2: three of the five must leave the window first.
    assert limiter.check("u", 2, 5.0) == pytest.approx(58.0)
