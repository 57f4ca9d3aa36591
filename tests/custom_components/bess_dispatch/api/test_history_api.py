"""History from HA's real recorder through real HTTP: windows, series and pagination edges."""

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from ..conftest import set_soc
from .conftest import SITE_API, Api
from .openapi_schemas import assert_error, assert_matches

HISTORY = f"{SITE_API}/history"


async def record_soc(api: Api, freezer: FrozenDateTimeFactory, values: list[float]) -> None:
    """One SoC reading a minute; the integration's SoC sensor records each."""
    for value in values:
        freezer.tick(timedelta(minutes=1))
        set_soc(api.hass, value)
        await api.hass.async_block_till_done()
    await async_wait_recording_done(api.hass)
    # The window ends before "now" (exclusive): step past the last reading.
    freezer.tick(timedelta(seconds=1))


async def history(api: Api, **params: Any) -> tuple[int, Any]:
    status, body, _ = await api.call("homeowner", "GET", HISTORY, **params)
    return status, body


async def test_soc_history_pages_oldest_first(api: Api, freezer: FrozenDateTimeFactory) -> None:
    await record_soc(api, freezer, [51, 52, 53, 54, 55])
    status, body = await history(api, limit=2)
    assert status == 200, body
    assert_matches("History", body)
    assert body["series"] == "soc"
    values = [item["value"] for item in body["items"]]
    assert values == [50, 51]
    assert body["total"] == 6
    assert body["next_page"] == 2
    _, last = await history(api, limit=2, page=3)
    assert [item["value"] for item in last["items"]] == [54, 55]
    assert last["next_page"] is None
    _, beyond = await history(api, limit=2, page=4)
    assert beyond["items"] == []
    assert beyond["next_page"] is None
    _, whole = await history(api, limit=1000)
    assert [item["value"] for item in whole["items"]] == [50, 51, 52, 53, 54, 55]
    _, one = await history(api, limit=1, page=6)
    assert [item["value"] for item in one["items"]] == [55]


async def test_soe_and_setpoint_series_and_a_range(
    api: Api, freezer: FrozenDateTimeFactory
) -> None:
    start = dt_util.utcnow()
    await record_soc(api, freezer, [60, 70])
    _, soe = await history(api, series="soe")
    assert [item["value"] for item in soe["items"]] == [5.0, 6.0, 7.0]
    _, setpoint = await history(api, series="setpoint", period="7d")
    assert setpoint["total"] >= 1
    # A range starting after the second reading holds the state in force then, and later ones.
    _, ranged = await history(
        api,
        start=(start + timedelta(minutes=1, seconds=30)).isoformat(),
        end=dt_util.utcnow().isoformat(),
    )
    assert [item["value"] for item in ranged["items"]] == [60, 70]


async def test_no_history_yet_is_an_empty_page(api: Api) -> None:
    status, body = await history(api, period="24h", page=1)
    assert status == 200, body
    assert body["next_page"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page": 1_000_001}, "page"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"series": "price"}, "series"),
        ({"period": "30d"}, "period"),
        ({"period": "24h", "start": "2026-01-01T00:00:00Z"}, "period"),
        ({"start": "2026-01-01T00:00:00Z"}, "end"),
        ({"end": "2026-01-01T00:00:00Z"}, "start"),
        ({"start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00:00Z"}, "start"),
        ({"start": "yesterday", "end": "2026-01-02T00:00:00Z"}, "start"),
        ({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "end"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-02-02T00:00:00Z"}, "end"),
    ],
)
async def test_bad_query_is_400_naming_the_parameter(
    api: Api, params: dict[str, Any], field: str
) -> None:
    status, body = await history(api, **params)
    assert status == 400, body
    assert_error(body, "BESS_INVALID_FIELD", field)
