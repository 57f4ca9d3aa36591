"""Status, flow, plan and savings through real HTTP, checked against the OpenAPI schemas."""

from datetime import timedelta

from homeassistant.util import dt as dt_util

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import (
    Command,
    ControlMode,
    Priority,
    ScheduleEntry,
)

from ..conftest import SITE, set_soc
from .conftest import API, SITE_API, Api
from .openapi_schemas import assert_error, assert_matches


async def test_status_reports_soc_soe_mode_and_source(api: Api) -> None:
    status, body, _ = await api.call("homeowner", "GET", f"{SITE_API}/status")
    assert status == 200, body
    assert_matches("Status", body)
    assert body["site_id"] == SITE
    assert body["soc_pct"] == 50
    assert body["soe_kwh"] == 5.0
    assert body["control"]["effective_mode"] == "self_consumption"
    assert body["control"]["source"] == "fallback"
    assert body["emergency_stop"] is False
    # The test site measures the battery by kWh counters: no power is invented.
    assert body["battery_power_kw"]["available"] is False
    assert body["battery_power_kw"]["power_kw"] is None


async def test_status_follows_the_soc_sensor(api: Api) -> None:
    set_soc(api.hass, 80)
    await api.hass.async_block_till_done()
    _, body, _ = await api.call("homeowner", "GET", f"{SITE_API}/status")
    assert body["soc_pct"] == 80
    assert body["soe_kwh"] == 8.0


async def test_flow_gives_lifetime_energy_and_no_invented_power(api: Api) -> None:
    status, body, _ = await api.call("homeowner", "GET", f"{SITE_API}/flow")
    assert status == 200, body
    assert_matches("Flow", body)
    flows = body["flows"]
    assert set(flows) == {
        "pv",
        "load",
        "grid_import",
        "grid_export",
        "battery_charge",
        "battery_discharge",
    }
    assert flows["pv"]["metric"] == "solar_net_generation_ac"
    assert all(flow["power_kw"] is None for flow in flows.values())


async def test_plan_projects_soe_through_setpoints_and_says_where_it_stops(api: Api) -> None:
    now = dt_util.utcnow().replace(microsecond=0)
    entries = [
        ScheduleEntry(now, now + timedelta(hours=1), power_kw=2.0),
        ScheduleEntry(now + timedelta(hours=1), now + timedelta(hours=2), power_kw=-3.0),
        ScheduleEntry(
            now + timedelta(hours=2), now + timedelta(hours=3), mode=ControlMode.NO_DISCHARGE
        ),
    ]
    command = Command.create(
        command_id="plan-test", priority=Priority.INTRADAY, schedule=entries, now=now
    )
    response = await api.runtime.async_handle_command_payload(command.to_payload())
    assert response.status == "accepted"
    status, body, _ = await api.call("installer", "GET", f"{SITE_API}/plan")
    assert status == 200, body
    assert_matches("Plan", body)
    assert [block["mode"] for block in body["blocks"]] == ["setpoint", "setpoint", "no_discharge"]
    soe = [point["soe_kwh"] for point in body["planned_soe"]]
    assert soe[0] == 5.0
    assert 6.9 < soe[1] <= 7.0  # +2 kW for (almost) an hour
    assert 3.9 < soe[2] <= 4.0
    assert len(soe) == 3
    assert body["projection_complete"] is False
    assert "NO_DISCHARGE" in body["projection_ends_because"]


async def test_plan_without_schedule_says_so(api: Api) -> None:
    _, body, _ = await api.call("homeowner", "GET", f"{SITE_API}/plan")
    assert body["blocks"] == []
    assert body["projection_complete"] is False
    assert body["projection_ends_because"].startswith("no schedule covers")


async def test_savings_say_why_they_are_not_available(api: Api) -> None:
    status, body, _ = await api.call("homeowner", "GET", f"{SITE_API}/savings")
    assert status == 200, body
    assert_matches("Savings", body)
    assert body["expected"]["available"] is False
    assert body["expected"]["reason"].startswith("no command has carried economics yet")
    assert body["realised"]["available"] is False


async def test_sites_lists_what_the_caller_may_reach(api: Api) -> None:
    for role in ("homeowner", "installer", "utility"):
        status, body, _ = await api.call(role, "GET", f"{API}/sites")
        assert status == 200, body
        assert_matches("Sites", body)
        assert body["role"] == role
        assert [site["site_id"] for site in body["sites"]] == [SITE]


async def test_unknown_site_is_404(api: Api) -> None:
    status, body, _ = await api.call("installer", "GET", f"{API}/sites/nowhere/status")
    assert status == 404
    assert_error(body, "BESS_NOT_FOUND")


async def test_unloaded_site_is_503(api: Api) -> None:
    await api.hass.config_entries.async_unload(api.entry.entry_id)
    status, body, _ = await api.call("installer", "GET", f"{SITE_API}/status")
    assert status == 503
    assert_error(body, "BESS_SITE_UNAVAILABLE")
