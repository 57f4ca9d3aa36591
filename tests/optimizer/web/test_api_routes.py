"""REST API v1 over a real aiohttp server: routes, JSON errors, all checked against OpenAPI."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from optimizer.web import create_app
from tests.helpers.openapi import validate_response
from tests.helpers.status_samples import InMemoryStatusSource, sample_plan

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def fetch(
    client: TestClient[Any, Any], path: str, method: str = "GET"
) -> tuple[int, dict[str, str], Any]:
    """Status, headers and decoded JSON body, after validating the response."""
    async with client.request(method, path) as response:
        body = await response.read()
        headers = dict(response.headers)
        validate_response(method, path, response.status, headers, body)
        return response.status, headers, await response.json()


@pytest.fixture
async def client(aiohttp_client: Any, two_sites: InMemoryStatusSource) -> TestClient[Any, Any]:
    app = create_app(two_sites, ingress_only=False, allowed_clients=[])
    return await aiohttp_client(app)  # type: ignore[no-any-return]


async def test_healthz(client: TestClient[Any, Any]) -> None:
    status, _, body = await fetch(client, "/healthz")
    assert (status, body) == (200, {"status": "ok"})


async def test_sites_lists_every_site_in_order(client: TestClient[Any, Any]) -> None:
    status, _, body = await fetch(client, "/api/v1/sites")
    assert status == 200
    assert body == {
        "sites": [{"site_id": "home", "connected": True}, {"site_id": "cabin", "connected": False}]
    }


async def test_status_of_a_site(client: TestClient[Any, Any]) -> None:
    status, _, body = await fetch(client, "/api/v1/sites/home/status")
    assert status == 200
    assert body == {
        "site_id": "home",
        "connected": True,
        "last_telemetry": "2026-11-21T06:59:40+09:00",
        "soe_kwh": 6.2,
        "last_plan_at": "2026-11-21T06:56:00+09:00",
        "layers": {"p2": "p2-0007", "p1": "p1-0002", "p0": None},
        "last_error": None,
        "plan_quality": {"status": "feasible", "gap": 0.0062, "solve_seconds": 0.81},
        "plan_economics": {
            "horizon_hours": 48.0,
            "plan_cost": 512.5,
            "rule_cost": 530.0,
            "no_battery_cost": 801.25,
            "saving_vs_rule": 17.5,
            "saving_vs_no_battery": 288.75,
        },
        "policy_misses": [
            {"at": "2026-11-21T08:00:00+09:00", "planned_kwh": 6.5, "min_kwh": 8.0, "max_kwh": 10.0}
        ],
        "alerts": [
            {
                "code": "PRICES_MISSING",
                "severity": "warning",
                "message": "prices known for 40 of the 48 h horizon; "
                "the self-consumption rule runs after that",
            }
        ],
        "realised_economics": {
            "hours": 167.5,
            "actual_cost": 2100.0,
            "rule_cost": 2160.5,
            "no_battery_cost": 3300.0,
            "saving_vs_rule": 60.5,
            "saving_vs_no_battery": 1200.0,
        },
    }


async def test_status_of_an_offline_site_has_nulls(client: TestClient[Any, Any]) -> None:
    _, _, body = await fetch(client, "/api/v1/sites/cabin/status")
    assert body["connected"] is False
    assert body["soe_kwh"] is None
    assert body["last_telemetry"] is None
    assert body["last_error"] == "no telemetry for 15 min"
    assert body["plan_quality"] is None
    assert body["plan_economics"] is None
    assert body["alerts"] == []
    assert body["realised_economics"] is None


async def test_plan_of_a_site(client: TestClient[Any, Any]) -> None:
    status, _, body = await fetch(client, "/api/v1/sites/home/plan")
    assert status == 200
    assert body["site_id"] == "home"
    expected = sample_plan()
    assert len(body["points"]) == len(expected) == 96
    first = body["points"][0]
    assert first == {
        "start": "2026-11-21T00:00:00+09:00",
        "soe_kwh": expected[0].soe_kwh,
        "battery_kw": expected[0].battery_kw,
        "price": expected[0].price,
        "pv_kw": 0.0,
        "load_kw": expected[0].load_kw,
        "past": True,
    }
    assert [point["past"] for point in body["points"]].count(True) == 14


async def test_empty_plan(client: TestClient[Any, Any]) -> None:
    status, _, body = await fetch(client, "/api/v1/sites/cabin/plan")
    assert (status, body) == (200, {"site_id": "cabin", "points": []})


@pytest.mark.parametrize("what", ["status", "plan"])
async def test_unknown_site_is_a_404_json_error(client: TestClient[Any, Any], what: str) -> None:
    status, _, body = await fetch(client, f"/api/v1/sites/garage/{what}")
    assert status == 404
    assert body == {"error": {"code": "site_not_found", "message": "unknown site: 'garage'"}}


async def test_unknown_site_on_the_page_is_a_404_json_error(client: TestClient[Any, Any]) -> None:
    status, _, body = await fetch(client, "/?site=garage")
    assert status == 404
    assert body["error"]["code"] == "site_not_found"


async def test_unknown_path_is_a_404_json_error(client: TestClient[Any, Any]) -> None:
    status, _, body = await fetch(client, "/api/v1/nothing")
    assert status == 404
    assert body == {"error": {"code": "not_found", "message": "no such resource: /api/v1/nothing"}}


@pytest.mark.parametrize(
    "path", ["/api/v1/sites", "/api/v1/sites/home/plan", "/api/v1/sites/home/status", "/healthz"]
)
async def test_writing_is_a_405_json_error_with_allow(
    client: TestClient[Any, Any], path: str
) -> None:
    status, headers, body = await fetch(client, path, method="POST")
    assert status == 405
    assert set(headers["Allow"].split(",")) == {"GET", "HEAD"}
    assert body["error"]["code"] == "method_not_allowed"
    assert "POST" in body["error"]["message"]


class BrokenStatusSource(InMemoryStatusSource):
    def status(self, site_id: str) -> Any:
        raise RuntimeError("state store corrupted")


async def test_a_crash_is_a_500_json_error_without_details(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    source = BrokenStatusSource(statuses={}, plans={})
    client = await aiohttp_client(create_app(source, ingress_only=False, allowed_clients=[]))
    status, _, body = await fetch(client, "/api/v1/sites/home/status")
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "corrupted" not in body["error"]["message"]
    assert "state store corrupted" in caplog.text  # the traceback went to the log


async def test_a_non_finite_value_is_a_500_naming_the_field(
    aiohttp_client: Any, one_site: InMemoryStatusSource, caplog: pytest.LogCaptureFixture
) -> None:
    points = sample_plan()
    points[3] = replace(points[3], price=math.nan)
    one_site.plans["home"] = points
    client = await aiohttp_client(create_app(one_site, ingress_only=False, allowed_clients=[]))
    status, _, body = await fetch(client, "/api/v1/sites/home/plan")
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "plan point 3: price is not a finite number" in caplog.text


async def test_openapi_document_is_served(client: TestClient[Any, Any]) -> None:
    async with client.get("/api/v1/openapi.yaml") as response:
        body = await response.read()
        validate_response("GET", "/api/v1/openapi.yaml", 200, dict(response.headers), body)
    assert body.decode().startswith("openapi: 3.1.0")
