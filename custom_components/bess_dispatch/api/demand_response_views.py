"""Demand-response events: a utility (or installer) asks for discharge or less charging.

POST .../demand_response {"event_id"?, "kind", "start", "end", "power_kw"} answers 201 with
the event and its status; GET lists events or shows one, with what the battery does about
it while it runs (the report back); DELETE cancels one. Each change also fires
``bess_dispatch_demand_response`` on HA's event bus.
"""

import uuid
from http import HTTPStatus
from typing import Any

from aiohttp import web
from homeassistant.util import dt as dt_util

from ..bess_dispatch_core.gateway.demand_response import (
    DemandResponseEvent,
    EventError,
    EventKind,
)
from ..const import DOMAIN
from ..data import BessDispatchConfigEntry
from .base import API_PREFIX, ApiView, Caller, json_body, site_entry
from .control_views import check_charge_limit, check_power
from .errors import ApiError, bad_field, emergency_stop_held, not_found
from .fields import instant, number, only_known, text
from .roles import Action
from .site_state import current_state, event_json

EVENT_DEMAND_RESPONSE = f"{DOMAIN}_demand_response"
FIELDS = ("event_id", "kind", "start", "end", "power_kw")


def _refused(err: EventError) -> ApiError:
    if err.conflict:
        return ApiError(
            HTTPStatus.CONFLICT, "BESS_CONFLICT", f"{err.field}: {err}", {"field": err.field}
        )
    return bad_field(err.field, str(err))


def _announce(caller: Caller, entry: BessDispatchConfigEntry, event: DemandResponseEvent) -> None:
    caller.hass.bus.async_fire(
        EVENT_DEMAND_RESPONSE,
        {"site_id": entry.runtime_data.config.site_id, "entry_id": entry.entry_id}
        | event.to_dict(),
    )


def read_event(body: dict[str, Any], requested_by: str) -> DemandResponseEvent:
    """The event a POST describes; 400 naming the first bad field."""
    only_known(body, FIELDS)
    now = dt_util.utcnow()
    event_id = body.get("event_id")
    if event_id is None:
        event_id = f"dr-{uuid.uuid4().hex[:12]}"
    elif not isinstance(event_id, str):
        raise bad_field("event_id", "must be a string")
    return DemandResponseEvent(
        event_id=event_id,
        kind=EventKind(text(body, "kind", [kind.value for kind in EventKind])),
        start=instant(body, "start", now),
        end=instant(body, "end", now),
        power_kw=number(body, "power_kw", minimum=0),
        requested_by=requested_by,
    )


class DemandResponseListView(ApiView):
    url = f"{API_PREFIX}/sites/{{site_id}}/demand_response"
    name = "api:bess_dispatch:demand_response"

    async def get(self, request: web.Request, site_id: str) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            runtime = site_entry(caller).runtime_data.runtime
            state = current_state(runtime)
            events = runtime.dispatcher.demand_response.events
            return self.json({"events": [event_json(event, state) for event in events]})

        return await self.guarded(request, Action.READ_DEMAND_RESPONSE, site_id, answer)

    async def post(self, request: web.Request, site_id: str) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            entry = site_entry(caller)
            runtime = entry.runtime_data.runtime
            event = read_event(await json_body(request), caller.user.name or caller.user.id)
            limits = entry.runtime_data.config.limits
            if event.kind is EventKind.DISCHARGE:
                check_power(limits, "power_kw", -event.power_kw)
            else:
                check_charge_limit(limits, "power_kw", event.power_kw)
            if runtime.dispatcher.emergency_stop:
                raise emergency_stop_held()
            try:
                runtime.add_demand_response(event)
            except EventError as err:
                raise _refused(err) from err
            _announce(caller, entry, event)
            return self.json(event_json(event, current_state(runtime)), HTTPStatus.CREATED)

        return await self.guarded(request, Action.WRITE_DEMAND_RESPONSE, site_id, answer)


class DemandResponseEventView(ApiView):
    url = f"{API_PREFIX}/sites/{{site_id}}/demand_response/{{event_id}}"
    name = "api:bess_dispatch:demand_response_event"

    async def get(self, request: web.Request, site_id: str, event_id: str) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            runtime = site_entry(caller).runtime_data.runtime
            event = runtime.dispatcher.demand_response.get(event_id)
            if event is None:
                raise not_found("event", event_id)
            return self.json(event_json(event, current_state(runtime)))

        return await self.guarded(request, Action.READ_DEMAND_RESPONSE, site_id, answer)

    async def delete(self, request: web.Request, site_id: str, event_id: str) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            entry = site_entry(caller)
            runtime = entry.runtime_data.runtime
            try:
                event = runtime.cancel_demand_response(event_id)
            except KeyError:
                raise not_found("event", event_id) from None
            except EventError as err:
                raise _refused(err) from err
            _announce(caller, entry, event)
            return self.json(event_json(event, current_state(runtime)))

        return await self.guarded(request, Action.WRITE_DEMAND_RESPONSE, site_id, answer)
