"""GET .../history: SoC, SoE or setpoint history from HA's recorder, a page at a time.

Query: ``series`` (soc, soe, setpoint; default soc), ``period`` (24h or 7d; default 24h)
or ``start`` and ``end`` (ISO 8601 with a zone, at most 31 days apart), ``page`` (from 1)
and ``limit`` (1-1000, default 100). Items are the recorded state changes, oldest first,
the first being the state in force at the window's start.
"""

from datetime import datetime, timedelta
from functools import partial
from http import HTTPStatus
from typing import Any

from aiohttp import web
from homeassistant.components.recorder import history
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from ..bess_dispatch_core.protocol.metrics import BATTERY_SOE
from ..bess_dispatch_core.protocol.timeformat import format_datetime
from ..const import DOMAIN
from ..data import BessDispatchConfigEntry
from .base import API_PREFIX, ApiView, Caller, site_entry
from .errors import ApiError, bad_field
from .roles import Action

# Query name -> the sensor's unique-id key (the SoE sensor is keyed by its protocol metric).
SERIES = {"soc": "state_of_charge", "soe": BATTERY_SOE, "setpoint": "setpoint"}
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
MAX_RANGE = timedelta(days=31)
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_PAGE = 1_000_000


def _int(query: Any, name: str, default: int, lowest: int, highest: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_field(name, f"must be an integer, got {raw[:20]!r}") from None
    if not lowest <= value <= highest:
        raise bad_field(name, f"must be from {lowest} to {highest}")
    return value


def _instant(query: Any, name: str) -> datetime:
    raw = query.get(name)
    if raw is None:
        raise bad_field(name, "is required with a range (start and end)")
    parsed = dt_util.parse_datetime(raw)
    if parsed is None:
        raise bad_field(name, f"must be an ISO 8601 time, got {raw[:40]!r}")
    if parsed.tzinfo is None:
        raise bad_field(name, "must carry a time zone (e.g. Z or +09:00)")
    return dt_util.as_utc(parsed)


def window(query: Any, now: datetime) -> tuple[datetime, datetime]:
    """The requested window; 400 naming the parameter when it is bad."""
    if "start" in query or "end" in query:
        if "period" in query:
            raise bad_field("period", "give either period or start and end, not both")
        start, end = _instant(query, "start"), _instant(query, "end")
        if end <= start:
            raise bad_field("end", "must be after start")
        if end - start > MAX_RANGE:
            raise bad_field("end", f"a range spans at most {MAX_RANGE.days} days")
        return start, end
    period = query.get("period", "24h")
    if period not in PERIODS:
        raise bad_field("period", f"must be one of {', '.join(PERIODS)}")
    return now - PERIODS[period], now


def entity_of(hass: HomeAssistant, entry: BessDispatchConfigEntry, series: str) -> str | None:
    config = entry.runtime_data.config
    unique_id = f"{config.site_id}_{config.gateway_id}_{SERIES[series]}"
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)


def _value(state: State) -> float | None:
    try:
        return float(state.state)
    except ValueError:
        return None  # unavailable / unknown: a gap, kept so the client sees it


class HistoryView(ApiView):
    url = f"{API_PREFIX}/sites/{{site_id}}/history"
    name = "api:bess_dispatch:history"

    async def get(self, request: web.Request, site_id: str) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            return self.json(await self._page(caller, request.query))

        return await self.guarded(request, Action.READ_DETAIL, site_id, answer)

    async def _page(self, caller: Caller, query: Any) -> dict[str, Any]:
        series = query.get("series", "soc")
        if series not in SERIES:
            raise bad_field("series", f"must be one of {', '.join(SERIES)}")
        start, end = window(query, dt_util.utcnow())
        page = _int(query, "page", 1, 1, MAX_PAGE)
        limit = _int(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        hass = caller.hass
        if "recorder" not in hass.config.components:
            raise ApiError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "BESS_HISTORY_UNAVAILABLE",
                "Home Assistant's recorder is not running",
            )
        entity_id = entity_of(hass, site_entry(caller), series)
        if entity_id is None:
            raise ApiError(
                HTTPStatus.NOT_FOUND,
                "BESS_NOT_FOUND",
                f"the site has no {series} sensor",
                {"series": series},
            )
        states = await get_instance(hass).async_add_executor_job(
            partial(
                history.state_changes_during_period,
                hass,
                start,
                end,
                entity_id,
                no_attributes=True,
                include_start_time_state=True,
            )
        )
        rows = states.get(entity_id, [])
        first = (page - 1) * limit
        items = [
            {"at": format_datetime(state.last_changed), "value": _value(state)}
            for state in rows[first : first + limit]
        ]
        return {
            "site_id": site_entry(caller).runtime_data.config.site_id,
            "series": series,
            "entity_id": entity_id,
            "start": format_datetime(start),
            "end": format_datetime(end),
            "page": page,
            "limit": limit,
            "total": len(rows),
            "next_page": page + 1 if first + limit < len(rows) else None,
            "items": items,
        }
