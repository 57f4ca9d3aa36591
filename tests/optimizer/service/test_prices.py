"""Price inputs: timestamp,price and JEPX CSV files, a ToU table, and an HA entity read over
HTTP from a real (local) aiohttp server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from optimizer.service.prices import (
    EntityPrices,
    PriceError,
    SpotFilePrices,
    TouPrices,
    parse_jepx_csv,
    parse_timestamp_price_csv,
)
from optimizer.settings.service_config import HomeAssistantApi
from optimizer.settings.tariff import SpotFormat, TouPeriod

JST = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 11, 21, tzinfo=JST)
SLOT = timedelta(minutes=30)


def test_timestamp_price_csv_repeats_the_last_day_beyond_the_file() -> None:
    text = "timestamp,price\n" + "".join(
        f"{(T0 + i * SLOT).isoformat()},{10 + i}\n" for i in range(48)
    )
    table = parse_timestamp_price_csv(text, "prices.csv")
    prices = table.prices([T0, T0 + SLOT, T0 + timedelta(days=1, minutes=30)])
    assert prices.tolist() == [10.0, 11.0, 11.0]


def test_timestamp_price_csv_errors_name_the_line() -> None:
    with pytest.raises(PriceError, match=r"prices.csv line 2: price 'abc'"):
        parse_timestamp_price_csv("timestamp,price\n2026-11-21T00:00:00+09:00,abc\n", "prices.csv")
    with pytest.raises(PriceError, match="needs a UTC offset"):
        parse_timestamp_price_csv("2026-11-21T00:00:00,1\n2026-11-21T00:30:00,1\n", "p.csv")


def test_jepx_csv_uses_the_tokyo_area_price(tmp_path: Path) -> None:
    header = "受渡日,時刻コード,売り入札量(kWh),システムプライス(円/kWh),エリアプライス東京(円/kWh)"
    rows = [f"2026/11/21,{code},1000,{code}.5,{code + 100}" for code in range(1, 49)]
    path = tmp_path / "spot.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    source = SpotFilePrices(str(path), SpotFormat.JEPX, clock=lambda: T0)
    assert source.prices([T0, T0 + 47 * SLOT]).tolist() == [101.0, 148.0]
    with pytest.raises(PriceError, match="時刻コード 49"):
        parse_jepx_csv(header + "\n2026/11/21,49,1,1,1\n", "x")


def test_time_of_use_in_local_time_wraps_midnight() -> None:
    periods = (TouPeriod(7 * 60, 23 * 60, 30.0), TouPeriod(23 * 60, 7 * 60, 18.0))
    source = TouPrices(periods, "Asia/Tokyo")
    moments = [T0, T0 + timedelta(hours=7), T0 + timedelta(hours=23, minutes=30)]
    assert source.prices(moments).tolist() == [18.0, 30.0, 18.0]


@pytest.fixture
def home_assistant_api(socket_enabled: None) -> Iterator[tuple[str, list[str]]]:
    """A tiny HA REST API: ``GET /api/states/sensor.price`` with bearer-token check."""
    seen_auth: list[str] = []
    future = [
        {"start": (T0 + timedelta(hours=1)).isoformat(), "price": 42.0},
        {"start": (T0 + timedelta(hours=2)).astimezone(UTC).isoformat(), "value": 7},
    ]

    async def state(request: web.Request) -> web.Response:
        seen_auth.append(request.headers.get("Authorization", ""))
        if request.match_info["entity"] != "sensor.price":
            return web.json_response({"message": "Entity not found."}, status=404)
        document = {
            "entity_id": "sensor.price",
            "state": "23.5",
            "attributes": {"prices": future},
            "last_updated": "2026-11-21T00:00:00+00:00",
        }
        return web.json_response(document)

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/api/states/{entity}", state)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, name="fake-ha-api")
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/api", seen_auth
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def test_entity_prices_through_the_home_assistant_api(
    home_assistant_api: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen_auth = home_assistant_api
    monkeypatch.setenv("SUPERVISOR_TOKEN", "secret-token")
    source = EntityPrices(HomeAssistantApi(url, "SUPERVISOR_TOKEN"), "sensor.price")
    moments = [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=3)]
    assert source.prices(moments).tolist() == [23.5, 42.0, 7.0, 23.5]
    assert seen_auth == ["Bearer secret-token"]
    assert source.version().startswith("23.5@")

    missing = EntityPrices(HomeAssistantApi(url, "SUPERVISOR_TOKEN"), "sensor.nothing")
    with pytest.raises(PriceError, match=r"tariff.entity_id: sensor.nothing cannot be read"):
        missing.prices(moments)


@pytest.mark.parametrize("price", ["1e300", "-20000", "inf", "nan"])
def test_an_absurd_price_is_refused_naming_the_line(price: str) -> None:
    text = f"2026-11-21T00:00:00+09:00,20\n2026-11-21T00:30:00+09:00,{price}\n"
    with pytest.raises(PriceError, match=r"prices.csv line 2: price .*(not finite|beyond)"):
        parse_timestamp_price_csv(text, "prices.csv")


def test_an_absurd_time_of_use_price_is_refused() -> None:
    with pytest.raises(PriceError, match=r"tariff.tou_periods\[0\]: price 1e\+300"):
        TouPrices([TouPeriod(0, 1440, 1e300)], "Asia/Tokyo")
