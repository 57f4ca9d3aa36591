"""Registers every view of the API with Home Assistant's web server, once."""

from homeassistant.core import HomeAssistant

from .control_views import ChargeLimitView, EmergencyStopView, ModeView
from .demand_response_views import DemandResponseEventView, DemandResponseListView
from .history_view import HistoryView
from .openapi_view import OpenApiView, load_openapi
from .read_views import FlowView, PlanView, SavingsView, SitesView, StatusView


async def async_register_api(hass: HomeAssistant) -> None:
    """Register every view once (views serve every entry, looked up by site id)."""
    document = await hass.async_add_executor_job(load_openapi)
    for view in (
        OpenApiView(document),
        SitesView(),
        StatusView(),
        FlowView(),
        HistoryView(),
        PlanView(),
        SavingsView(),
        ModeView(),
        ChargeLimitView(),
        EmergencyStopView(),
        DemandResponseListView(),
        DemandResponseEventView(),
    ):
        hass.http.register_view(view)
