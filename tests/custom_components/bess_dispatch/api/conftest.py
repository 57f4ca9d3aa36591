"""A real Home Assistant with its HTTP server, a site, and users of each API role.

Requests go through aiohttp's test client into HA's real web app: HA's own auth middleware
checks the tokens, as it would for a phone app.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from homeassistant.auth.const import GROUP_ID_ADMIN, GROUP_ID_USER
from homeassistant.auth.models import User
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.plugins.mosquitto_broker import Broker

from ..conftest import SITE, setup_site

API = "/api/bess_dispatch/v1"
SITE_API = f"{API}/sites/{SITE}"
ROLES = ("homeowner", "installer", "utility")


async def make_user(hass: HomeAssistant, name: str, group: str) -> tuple[User, str]:
    user = MockUser(name=name, groups=[await hass.auth.async_get_group(group)]).add_to_hass(hass)
    refresh = await hass.auth.async_create_refresh_token(user, CLIENT_ID)
    return user, hass.auth.async_create_access_token(refresh)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Every API test runs with HA's recorder (history comes from it), set up before hass:
    these overrides of the parent's autouse fixtures ask for the recorder first."""


@pytest.fixture(autouse=True)
def config_dir_per_test(recorder_mock: Recorder, hass: HomeAssistant, tmp_path: Path) -> None:
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "configuration.yaml").write_text("")
    # The harness logs every SQL statement of the recorder at INFO; these tests need none.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@dataclass
class Api:
    """One HTTP client per role (and one without a token)."""

    hass: HomeAssistant
    entry: MockConfigEntry
    users: dict[str, User]
    clients: dict[str, TestClient] = field(default_factory=dict)

    async def call(
        self, role: str, method: str, path: str, body: Any = None, **params: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """Status, decoded JSON body and headers of one request."""
        client = self.clients[role]
        kwargs: dict[str, Any] = {"params": params} if params else {}
        if body is not None:
            kwargs["json"] = body
        response = await client.request(method, path, **kwargs)
        try:
            decoded = await response.json()
        except ValueError:
            decoded = await response.text()
        return response.status, decoded, dict(response.headers)

    @property
    def runtime(self) -> Any:
        return self.entry.runtime_data.runtime


async def make_api(
    hass: HomeAssistant,
    broker: Broker,
    aiohttp_client: ClientSessionGenerator,
    options: dict[str, Any] | None = None,
) -> Api:
    assert await async_setup_component(hass, "http", {})
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    users["homeowner"], tokens["homeowner"] = await make_user(hass, "Owner", GROUP_ID_USER)
    users["installer"], tokens["installer"] = await make_user(hass, "Installer", GROUP_ID_ADMIN)
    users["utility"], tokens["utility"] = await make_user(hass, "Grid Co", GROUP_ID_USER)
    entry = await setup_site(
        hass,
        broker,
        options={"api_utility_users": [users["utility"].id], "api_rate_limit_per_min": 10_000}
        | (options or {}),
    )
    api = Api(hass, entry, users)
    for role, token in tokens.items():
        api.clients[role] = await aiohttp_client(
            hass.http.app, headers={"Authorization": f"Bearer {token}"}
        )
    api.clients["anonymous"] = await aiohttp_client(hass.http.app)
    api.clients["bad_token"] = await aiohttp_client(
        hass.http.app, headers={"Authorization": "Bearer not-a-token"}
    )
    return api


@pytest.fixture
async def api(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    aiohttp_client: ClientSessionGenerator,
    socket_enabled: None,
) -> Api:
    return await make_api(hass, mosquitto_broker, aiohttp_client)
