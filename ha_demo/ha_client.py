"""Home Assistant's own HTTP and websocket APIs, used the way its frontend uses them:
onboarding, config flows, the entity registry, Energy preferences and dashboards."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

ONBOARDING_LANGUAGE = "en"


class HomeAssistantApiError(RuntimeError):
    """An API call answered with an error; the message names the call and the answer."""


@dataclass(frozen=True, slots=True)
class Owner:
    """The account onboarding creates; the demo prints it as the login."""

    name: str = "Demo Owner"
    username: str = "owner"
    password: str = "bess-demo-password"


@dataclass(frozen=True, slots=True)
class Location:
    """What onboarding's location step saves (config/core/update)."""

    latitude: float = 35.6812
    longitude: float = 139.7671
    elevation: int = 40
    time_zone: str = "Asia/Tokyo"
    currency: str = "JPY"
    country: str = "JP"
    unit_system: str = "metric"
    location_name: str = "Tokyo"


class HomeAssistantClient:
    """One HA instance at ``base_url`` (``http://127.0.0.1:PORT``) with one access token."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.token: str | None = None
        self._ws_id = 0

    @property
    def client_id(self) -> str:
        return f"{self.base_url}/"

    # --- plain HTTP --------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    async def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        async with self.session.request(
            method, f"{self.base_url}{path}", json=payload, headers=self._headers()
        ) as response:
            text = await response.text()
            if response.status >= 400:
                raise HomeAssistantApiError(f"{method} {path}: HTTP {response.status} {text}")
            return await response.json() if text else None

    async def wait_until_up(self, timeout_s: float) -> None:
        """Until the HTTP API answers (401 without a token, 200 with one)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                async with self.session.get(
                    f"{self.base_url}/api/", headers=self._headers()
                ) as response:
                    if response.status in (200, 401):
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise HomeAssistantApiError(f"{self.base_url} did not answer in {timeout_s} s")
            await asyncio.sleep(0.5)

    # --- onboarding and login -------------------------------------------------------------
    async def _token_from_code(self, code: str) -> str:
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(f"{self.base_url}/auth/token", data=form) as response:
            body = await response.json()
            if response.status != 200:
                raise HomeAssistantApiError(f"POST /auth/token: HTTP {response.status} {body}")
            token: str = body["access_token"]
            return token

    async def onboard(self, owner: Owner, location: Location) -> None:
        """Every onboarding step as the frontend does it; then a long-lived token."""
        done = await self.request("GET", "/api/onboarding")
        pending = {step["step"] for step in done if not step["done"]}
        if "user" not in pending:
            raise HomeAssistantApiError("onboarding: the owner already exists; use login()")
        created = await self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": owner.name,
                "username": owner.username,
                "password": owner.password,
                "language": ONBOARDING_LANGUAGE,
            },
        )
        self.token = await self._token_from_code(created["auth_code"])
        await self.ws(
            "config/core/update",
            latitude=location.latitude,
            longitude=location.longitude,
            elevation=location.elevation,
            time_zone=location.time_zone,
            currency=location.currency,
            country=location.country,
            unit_system=location.unit_system,
            location_name=location.location_name,
        )
        await self.request("POST", "/api/onboarding/core_config")
        await self.request("POST", "/api/onboarding/analytics")
        await self.request(
            "POST",
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": f"{self.base_url}/?auth_callback=1"},
        )
        self.token = await self.ws(
            "auth/long_lived_access_token", client_name="bess-demo", lifespan=3650
        )

    async def login(self, owner: Owner) -> None:
        """The login flow of the login page, then a short-lived token (an HA restart keeps
        the account)."""
        flow = await self.request(
            "POST",
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.base_url}/?auth_callback=1",
            },
        )
        result = await self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": owner.username, "password": owner.password},
        )
        self.token = await self._token_from_code(result["result"])

    # --- websocket ------------------------------------------------------------------------
    async def ws(self, message_type: str, **payload: Any) -> Any:
        """One command on a fresh websocket connection; its result, or an error naming it."""
        if self.token is None:
            raise HomeAssistantApiError("websocket: not logged in")
        async with self.session.ws_connect(f"{self.base_url}/api/websocket") as socket:
            hello = await socket.receive_json()
            if hello.get("type") != "auth_required":
                raise HomeAssistantApiError(f"websocket: unexpected greeting {hello}")
            await socket.send_json({"type": "auth", "access_token": self.token})
            auth = await socket.receive_json()
            if auth.get("type") != "auth_ok":
                raise HomeAssistantApiError(f"websocket: authentication refused: {auth}")
            self._ws_id += 1
            await socket.send_json({"id": self._ws_id, "type": message_type, **payload})
            while True:
                answer = await socket.receive_json(timeout=60)
                if answer.get("id") == self._ws_id and answer.get("type") == "result":
                    break
            if not answer.get("success"):
                raise HomeAssistantApiError(f"websocket {message_type}: {answer.get('error')}")
            return answer.get("result")

    # --- config flows -----------------------------------------------------------------------
    async def start_flow(self, handler: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": handler, "show_advanced_options": False},
        )
        return result

    async def flow_step(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "POST", f"/api/config/config_entries/flow/{flow_id}", data
        )
        return result

    async def start_options_flow(self, entry_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "POST", "/api/config/config_entries/options/flow", {"handler": entry_id}
        )
        return result

    async def options_step(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "POST", f"/api/config/config_entries/options/flow/{flow_id}", data
        )
        return result

    async def state(self, entity_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", f"/api/states/{entity_id}")
        return result

    async def call_service(self, domain: str, service: str, data: dict[str, Any]) -> Any:
        return await self.request("POST", f"/api/services/{domain}/{service}", data)
