"""Status, flow, plan and savings through real HTTP."""

from .conftest import SITE_API, Api


async def test_status_reports_soc_mode_and_source(api: Api) -> None:
    status, body, _ = await api.call("homeowner", "GET", f"{SITE_API}/status")
    assert status == 200, body
    assert body["soc_pct"] == 50
    assert body["soe_kwh"] == 5.0
    assert body["control"]["effective_mode"] == "self_consumption"
    assert body["control"]["source"] == "fallback"
