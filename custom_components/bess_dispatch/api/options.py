"""The API's options on a site's entry: rate limit and the users who act as its utility."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import probatio as vol
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

CONF_API_RATE_LIMIT: Final = "api_rate_limit_per_min"
CONF_API_UTILITY_USERS: Final = "api_utility_users"
DEFAULT_RATE_LIMIT: Final = 100
MAX_RATE_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """A site's API settings (part of its SiteConfig)."""

    rate_limit_per_min: int = DEFAULT_RATE_LIMIT
    utility_users: frozenset[str] = frozenset()  # HA user ids

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ApiConfig:
        return cls(
            rate_limit_per_min=int(options.get(CONF_API_RATE_LIMIT, DEFAULT_RATE_LIMIT)),
            utility_users=frozenset(options.get(CONF_API_UTILITY_USERS) or ()),
        )


async def api_options_schema(hass: HomeAssistant) -> dict[Any, Any]:
    """Fields for the options form; the utility users are chosen among HA's people."""
    users = [
        SelectOptionDict(value=user.id, label=user.name or user.id)
        for user in await hass.auth.async_get_users()
        if not user.system_generated and user.is_active
    ]
    return {
        vol.Required(CONF_API_RATE_LIMIT, default=DEFAULT_RATE_LIMIT): NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=MAX_RATE_LIMIT,
                step=1,
                unit_of_measurement="/min",
                mode=NumberSelectorMode.BOX,
            )
        ),
        vol.Optional(CONF_API_UTILITY_USERS, default=[]): SelectSelector(
            SelectSelectorConfig(options=users, multiple=True, mode=SelectSelectorMode.DROPDOWN)
        ),
    }
