"""Read-only views: the site list, status, energy flow, planned SoE and savings."""

from typing import Any

from aiohttp import web
from homeassistant.helpers.http import KEY_HASS

from ..const import CONF_GATEWAY_ID, CONF_SITE_ID, DOMAIN
from ..data import BessDispatchConfigEntry
from .base import API_PREFIX, ApiView, Caller, may_see, site_entry
from .roles import Action
from .site_state import flow_json, plan_json, savings_json, status_json


class SitesView(ApiView):
    url = f"{API_PREFIX}/sites"
    name = "api:bess_dispatch:sites"

    async def get(self, request: web.Request) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            entries = request.app[KEY_HASS].config_entries.async_entries(DOMAIN)
            return self.json(
                {
                    "role": caller.role.value,
                    "sites": [
                        {
                            "site_id": entry.data[CONF_SITE_ID],
                            "gateway_id": entry.data[CONF_GATEWAY_ID],
                            "state": entry.state.value,
                        }
                        for entry in entries
                        if may_see(caller.role, caller.user, entry)
                    ],
                }
            )

        return await self.guarded(request, Action.READ_INDEX, None, answer)


class _SiteReadView(ApiView):
    """GET of one JSON document about a site."""

    action = Action.READ_DETAIL

    def document(self, entry: BessDispatchConfigEntry) -> dict[str, Any]:
        raise NotImplementedError

    async def get(self, request: web.Request, site_id: str) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            return self.json(self.document(site_entry(caller)))

        return await self.guarded(request, self.action, site_id, answer)


class StatusView(_SiteReadView):
    url = f"{API_PREFIX}/sites/{{site_id}}/status"
    name = "api:bess_dispatch:status"
    action = Action.READ_STATUS

    def document(self, entry: BessDispatchConfigEntry) -> dict[str, Any]:
        return status_json(entry)


class FlowView(_SiteReadView):
    url = f"{API_PREFIX}/sites/{{site_id}}/flow"
    name = "api:bess_dispatch:flow"

    def document(self, entry: BessDispatchConfigEntry) -> dict[str, Any]:
        return flow_json(entry)


class PlanView(_SiteReadView):
    url = f"{API_PREFIX}/sites/{{site_id}}/plan"
    name = "api:bess_dispatch:plan"

    def document(self, entry: BessDispatchConfigEntry) -> dict[str, Any]:
        return plan_json(entry)


class SavingsView(_SiteReadView):
    url = f"{API_PREFIX}/sites/{{site_id}}/savings"
    name = "api:bess_dispatch:savings"

    def document(self, entry: BessDispatchConfigEntry) -> dict[str, Any]:
        return savings_json(entry)
