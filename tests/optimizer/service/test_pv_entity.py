"""A site's PV forecast from a solar forecast sensor in a REAL Home Assistant.

Home Assistant runs here with its ``http`` and ``api`` components on a real port; the sensor
holds what the Solcast integration writes (``detailedForecast``, its ``period_start`` aware
datetimes that HA's API sends as ISO text), and the service reads it with a real long-lived
access token, as the add-on does through the Supervisor's proxy. The service plans the demo
site against a real Mosquitto and the simulated gateway: its plan must carry the sensor's PV
where the sensor covers and the service's own forecast elsewhere; a sensor holding a value
no forecast has must leave the own forecast in place and raise ``PV_FORECAST_UNAVAILABLE``.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from optimizer.service.plan_alerts import PV_FORECAST_UNAVAILABLE
from optimizer.service.pv_entity import EntityPvForecast, with_entity_pv
from optimizer.service.site_memory import SLOT
from optimizer.settings.service_config import HomeAssistantApi
from optimizer.settings.site import PvSystem
from optimizer.simulation.day_run import DayRun, demo_config, sample_site
from optimizer.simulation.sample_profiles import sample_days
from tests.plugins.mosquitto_broker import Broker

TOKYO = ZoneInfo("Asia/Tokyo")
FIRST = datetime(2024, 5, 14, tzinfo=TOKYO)
ENTITY = "sensor.solcast_pv_forecast_forecast_today"
TOKEN_ENV = "BESS_TEST_HA_TOKEN"
COVERED = 24  # the sensor's 12 h from the plan's first slot; the rest is the own forecast


def solcast_forecast(first: datetime, estimates: list[float]) -> list[dict[str, Any]]:
    return [
        {
            "period_start": (first + index * SLOT).astimezone(TOKYO),
            "pv_estimate": kw,
            "pv_estimate10": round(kw * 0.6, 4),
            "pv_estimate90": round(kw * 1.2, 4),
        }
        for index, kw in enumerate(estimates)
    ]


async def test_the_plan_uses_a_solcast_sensor_of_a_real_home_assistant(
    hass: HomeAssistant,
    hass_access_token: str,
    aiohttp_client: Any,
    socket_enabled: None,
    mosquitto_broker: Broker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, "api", {})
    client = await aiohttp_client(hass.http.app)
    monkeypatch.setenv(TOKEN_ENV, hass_access_token)

    profiles = sample_days(FIRST, days=2)
    day = profiles.day(1)
    start = day.start
    plan_start = start + SLOT  # the last round of the run below plans from 00:30
    # Values the own forecast would never give at night: the plan must show these.
    estimates = [round(0.5 + 0.05 * index, 2) for index in range(COVERED)]
    attributes = {"detailedForecast": solcast_forecast(plan_start, estimates)}
    hass.states.async_set(ENTITY, "21.4", {**attributes, "unit_of_measurement": "kWh"})

    price_file = tmp_path / "prices.csv"
    lines = ["timestamp,price"]
    moment = start - timedelta(days=1)
    while moment < start + timedelta(days=3):
        hour = moment.astimezone(TOKYO).hour
        lines.append(f"{moment.isoformat()},{30.0 if 17 <= hour < 22 else 12.0}")
        moment += SLOT
    price_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    site = dataclasses.replace(
        sample_site(), pv=PvSystem(4.0, 35.69, 139.76), pv_forecast_entity=ENTITY
    )
    config = demo_config(
        host=mosquitto_broker.host,
        port=mosquitto_broker.port,
        state_dir=tmp_path / "state",
        price_file=price_file,
        sites=(site,),
        export_price=profiles.export_price,
    )
    api = HomeAssistantApi(str(client.make_url("/api")), TOKEN_ENV)
    run = DayRun.create(
        dataclasses.replace(config, home_assistant=api),
        day,
        soe_kwh=5.0,
        start=start,
        history=profiles.day(0),
    )
    await hass.async_add_executor_job(run.start)
    try:
        # The service's HTTP reads block in its rounds: they run off HA's event loop.
        await hass.async_add_executor_job(run.run, start, start + SLOT)
        plan = run.service.current_plan(site.site_id)
        assert plan is not None
        assert plan.slot_starts[0] == plan_start
        assert [alert.code for alert in plan.alerts] == []
        own_pv, _ = run.service._sites[site.site_id].state.forecast(list(plan.slot_starts))
        assert plan.pv_kw[:COVERED].tolist() == estimates
        assert plan.pv_kw[COVERED:].tolist() == own_pv[COVERED:].tolist()
        assert not np.array_equal(own_pv[:COVERED], estimates)

        # A broken sensor (Solcast never says -1 kW) is not planned on, and says why.
        broken = solcast_forecast(plan_start + SLOT, [-1.0, *estimates[1:]])
        hass.states.async_set(ENTITY, "21.4", {"detailedForecast": broken})
        later = start + 2 * SLOT
        with caplog.at_level(logging.WARNING):
            await hass.async_add_executor_job(run.run, later, later)
        plan = run.service.current_plan(site.site_id)
        assert plan is not None
        assert plan.slot_starts[0] == later
        (alert,) = plan.alerts
        assert alert.code == PV_FORECAST_UNAVAILABLE
        assert alert.message == (
            f"pv_forecast_entity: {ENTITY} detailedForecast[0].pv_estimate: -1 kW is "
            "negative; the own PV forecast is used"
        )
        own_pv, _ = run.service._sites[site.site_id].state.forecast(list(plan.slot_starts))
        assert plan.pv_kw.tolist() == own_pv.tolist()
        assert any(PV_FORECAST_UNAVAILABLE in record.message for record in caplog.records)
        status = run.service.status(site.site_id)
        assert [a.code for a in status.alerts] == [PV_FORECAST_UNAVAILABLE]
    finally:
        await hass.async_add_executor_job(run.stop)


async def test_an_unreadable_sensor_leaves_the_own_forecast_and_says_why(
    hass: HomeAssistant, hass_access_token: str, aiohttp_client: Any, socket_enabled: None
) -> None:
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, "api", {})
    client = await aiohttp_client(hass.http.app)
    starts = [FIRST + index * SLOT for index in range(4)]
    own = np.array([0.0, 0.1, 0.2, 0.3])
    hass.states.async_set(ENTITY, "3", {"detailedForecast": solcast_forecast(FIRST, [1.0])})
    api = HomeAssistantApi(str(client.make_url("/api")), TOKEN_ENV)

    def merged(entity: str, token: str) -> tuple[list[float], str | None]:
        source = EntityPvForecast(api, entity, kwp=4.0, token=token)
        pv, alert = with_entity_pv(own, source, starts)
        return pv.tolist(), None if alert is None else alert.message

    good = await hass.async_add_executor_job(merged, ENTITY, hass_access_token)
    assert good == ([1.0, 0.1, 0.2, 0.3], None)
    missing = await hass.async_add_executor_job(merged, "sensor.nothing", hass_access_token)
    assert missing == (
        own.tolist(),
        "pv_forecast_entity: sensor.nothing cannot be read (HTTP Error 404: Not Found); "
        "the own PV forecast is used",
    )
    refused = await hass.async_add_executor_job(merged, ENTITY, "not-a-token")
    assert refused[0] == own.tolist()
    assert refused[1] is not None
    assert "HTTP Error 401: Unauthorized" in refused[1]
    # A forecast of other days only (yesterday's sensor) covers nothing of the horizon.
    old = solcast_forecast(FIRST - timedelta(days=1), [1.0])
    hass.states.async_set(ENTITY, "3", {"detailedForecast": old})
    stale = await hass.async_add_executor_job(merged, ENTITY, hass_access_token)
    assert stale == (
        own.tolist(),
        f"pv_forecast_entity: {ENTITY} covers none of the horizon; the own PV forecast is used",
    )
