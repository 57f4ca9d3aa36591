"""Every endpoint called by every role (and without a valid token), through real HTTP."""

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.bess_dispatch.api.demand_response_views import read_event
from custom_components.bess_dispatch.api.roles import ALLOWED, Action, Role
from tests.plugins.mosquitto_broker import Broker

from .conftest import API, SITE_API, Api, make_api
from .openapi_schemas import assert_error, openapi


def _event(event_id: str, in_hours: int = 1) -> dict[str, Any]:
    start = dt_util.utcnow() + timedelta(hours=in_hours)
    return {
        "event_id": event_id,
        "kind": "discharge",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "power_kw": 2.0,
    }


# (method, path, body, action); path and body may depend on the role (unique event ids).
def calls(role: str) -> list[tuple[str, str, Any, Action]]:
    return [
        ("GET", f"{API}/openapi.json", None, Action.READ_INDEX),
        ("GET", f"{API}/sites", None, Action.READ_INDEX),
        ("GET", f"{SITE_API}/status", None, Action.READ_STATUS),
        ("GET", f"{SITE_API}/flow", None, Action.READ_DETAIL),
        ("GET", f"{SITE_API}/history", None, Action.READ_DETAIL),
        ("GET", f"{SITE_API}/plan", None, Action.READ_DETAIL),
        ("GET", f"{SITE_API}/savings", None, Action.READ_DETAIL),
        ("POST", f"{SITE_API}/mode", {"mode": "idle"}, Action.CONTROL),
        ("POST", f"{SITE_API}/charge_limit", {"max_charge_kw": 1}, Action.CONTROL),
        ("POST", f"{SITE_API}/emergency_stop", None, Action.EMERGENCY_STOP),
        ("DELETE", f"{SITE_API}/emergency_stop", None, Action.EMERGENCY_STOP),
        ("GET", f"{SITE_API}/demand_response", None, Action.READ_DEMAND_RESPONSE),
        (
            "POST",
            f"{SITE_API}/demand_response",
            _event(f"e-{role}"),
            Action.WRITE_DEMAND_RESPONSE,
        ),
        ("GET", f"{SITE_API}/demand_response/e-x", None, Action.READ_DEMAND_RESPONSE),
        ("DELETE", f"{SITE_API}/demand_response/e-x", None, Action.WRITE_DEMAND_RESPONSE),
    ]


def test_the_table_covers_every_operation_of_the_openapi_document() -> None:
    operations = {
        (method.upper(), f"{API}{path}")
        for path, item in openapi()["paths"].items()
        for method in item
        if method in ("get", "post", "delete")
    }
    table = {(method, path.replace("e-x", "{event_id}")) for method, path, _, _ in calls("x")}
    table = {(m, p.replace("/sites/site-1", "/sites/{site_id}")) for m, p in table}
    assert table == operations
    for path, item in openapi()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            action = next(
                a
                for m, p, _, a in calls("x")
                if m == method.upper()
                and p.replace("e-x", "{event_id}").replace("/sites/site-1", "/sites/{site_id}")
                == f"{API}{path}"
            )
            assert set(operation["x-roles"]) == {role.value for role in ALLOWED[action]}, path


@pytest.mark.parametrize("role", ["homeowner", "installer", "utility"])
async def test_each_role_reaches_exactly_its_endpoints(api: Api, role: str) -> None:
    # The GET/DELETE of one event need it to exist.
    api.runtime.add_demand_response(read_event(_event("e-x", in_hours=5), "test"))
    for method, path, body, action in calls(role):
        status, answer, _ = await api.call(role, method, path, body)
        if Role(role) in ALLOWED[action]:
            assert status in (200, 201), (method, path, answer)
        else:
            assert status == 403, (method, path, answer)
            assert_error(answer, "BESS_FORBIDDEN")
            assert answer["error"]["details"]["role"] == role


@pytest.mark.parametrize("client", ["anonymous", "bad_token"])
async def test_no_valid_token_is_401_everywhere(api: Api, client: str) -> None:
    before = api.runtime.dispatcher.to_dict()
    for method, path, body, _ in calls(client):
        status, answer, headers = await api.call(client, method, path, body)
        assert status == 401, (method, path, answer)
        assert_error(answer, "BESS_UNAUTHORIZED")
        assert headers["WWW-Authenticate"] == "Bearer"
    assert api.runtime.dispatcher.to_dict() == before


async def test_a_utility_reaches_only_sites_that_name_it(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    aiohttp_client: ClientSessionGenerator,
    socket_enabled: None,
) -> None:
    api = await make_api(hass, mosquitto_broker, aiohttp_client)
    # Another utility user names this site's utility no more: it is another utility's site.
    hass.config_entries.async_update_entry(
        api.entry, options=api.entry.options | {"api_utility_users": ["someone-else"]}
    )
    status, body, _ = await api.call("utility", "GET", f"{SITE_API}/status")
    # No longer named anywhere, the user is a homeowner (non-admin) again and sees status.
    assert status == 200, body
    hass.config_entries.async_update_entry(
        api.entry, options=api.entry.options | {"api_utility_users": [api.users["utility"].id]}
    )
    status, body, _ = await api.call("utility", "GET", f"{SITE_API}/status")
    assert status == 200, body
