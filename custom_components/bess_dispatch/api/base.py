"""What every API view does before its own work: who is calling, how often, on which site.

Views keep ``requires_auth`` off and check authentication themselves, so a missing or bad
token gets the API's error shape too (HA's own middleware still validates the token and
counts failed attempts for its IP ban).
"""

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from homeassistant.auth.models import User
from homeassistant.components.http.ban import process_wrong_login
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_AUTHENTICATED, KEY_HASS, HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from ..const import CONF_SITE_ID, DOMAIN
from ..data import BessDispatchConfigEntry
from .errors import ApiError, bad_field, not_found
from .options import DEFAULT_RATE_LIMIT, ApiConfig
from .rate_limit import RateLimiter, retry_after_header
from .roles import ALLOWED, Action, Role, role_of

API_PREFIX = "/api/bess_dispatch/v1"
MAX_BODY_BYTES = 16 * 1024  # every request body of this API is a few fields
RATE_LIMITER: HassKey[RateLimiter] = HassKey(f"{DOMAIN}_api_rate_limiter")


@dataclass(slots=True)
class Caller:
    hass: HomeAssistant
    user: User
    role: Role
    entry: BessDispatchConfigEntry | None  # the site addressed, if any


def _entries(hass: HomeAssistant) -> list[BessDispatchConfigEntry]:
    return list(hass.config_entries.async_entries(DOMAIN))


def api_config(entry: BessDispatchConfigEntry) -> ApiConfig:
    """The site's API settings as set-up read them; from its options while not loaded."""
    if entry.state is ConfigEntryState.LOADED:
        return entry.runtime_data.config.api
    return ApiConfig.from_options(entry.options)


def utility_user_ids(hass: HomeAssistant) -> set[str]:
    return {user for entry in _entries(hass) for user in api_config(entry).utility_users}


def may_see(caller_role: Role, user: User, entry: BessDispatchConfigEntry) -> bool:
    """A utility reaches only the sites whose options name it."""
    return caller_role is not Role.UTILITY or user.id in api_config(entry).utility_users


class ApiView(HomeAssistantView):
    """Base of every view of ``/api/bess_dispatch/v1``."""

    requires_auth = False

    async def guarded(
        self,
        request: web.Request,
        action: Action,
        site_id: str | None,
        handler: Callable[[Caller], Awaitable[web.Response]],
    ) -> web.Response:
        try:
            return await handler(await self._caller(request, action, site_id))
        except ApiError as err:
            return err.response()

    async def _caller(self, request: web.Request, action: Action, site_id: str | None) -> Caller:
        hass: HomeAssistant = request.app[KEY_HASS]
        user: User | None = request.get(KEY_HASS_USER)
        if not request.get(KEY_AUTHENTICATED, False) or user is None:
            await process_wrong_login(request)
            raise ApiError(
                HTTPStatus.UNAUTHORIZED,
                "BESS_UNAUTHORIZED",
                "a valid Home Assistant access token is required (Authorization: Bearer ...)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        entry = None
        if site_id is not None:
            entry = next((e for e in _entries(hass) if e.data[CONF_SITE_ID] == site_id), None)
        limit = DEFAULT_RATE_LIMIT if entry is None else api_config(entry).rate_limit_per_min
        wait = hass.data.setdefault(RATE_LIMITER, RateLimiter()).check(
            user.id, limit, time.monotonic()
        )
        if wait is not None:
            raise ApiError(
                HTTPStatus.TOO_MANY_REQUESTS,
                "BESS_RATE_LIMITED",
                f"more than {limit} requests in a minute",
                {"limit_per_minute": limit},
                headers={"Retry-After": retry_after_header(wait)},
            )
        role = role_of(user, utility_user_ids(hass))
        if role not in ALLOWED[action]:
            raise ApiError(
                HTTPStatus.FORBIDDEN,
                "BESS_FORBIDDEN",
                f"the {role.value} role may not call this endpoint",
                {"role": role.value},
            )
        if site_id is not None:
            if entry is None or not may_see(role, user, entry):
                raise not_found("site", site_id)
            if entry.state is not ConfigEntryState.LOADED:
                raise ApiError(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "BESS_SITE_UNAVAILABLE",
                    f"site {site_id!r} is not running ({entry.state.value})",
                    {"site_id": site_id},
                )
        return Caller(hass, user, role, entry)


def site_entry(caller: Caller) -> BessDispatchConfigEntry:
    assert caller.entry is not None  # the guard checked it for site views
    return caller.entry


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, bounded in size; 400 naming what is wrong."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _too_large()
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise ApiError(
            HTTPStatus.BAD_REQUEST, "BESS_INVALID_JSON", f"the body is not JSON: {err}"
        ) from err
    if not isinstance(body, dict):
        raise bad_field("body", "must be a JSON object")
    return body


def _too_large() -> ApiError:
    return ApiError(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "BESS_BODY_TOO_LARGE",
        f"the body may be at most {MAX_BODY_BYTES} bytes",
        {"max_bytes": MAX_BODY_BYTES},
    )
