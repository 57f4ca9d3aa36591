"""Benchmark (not a test of the normal run): the residential API with a year of history.

Run: ``scripts/env python -m pytest benchmarks/test_api_speed.py -s -p no:cacheprovider``
(``BESS_BENCH_REQUESTS=100`` for a short run; ``BESS_BENCH_INTERVAL_S=60`` for a reading a
minute instead of every 5 minutes). The normal test run never collects this file.

A real Home Assistant (pytest-homeassistant-custom-component harness) with its recorder on
SQLite holds a year of State-of-charge history for the site's sensor (written straight into
the recorder's tables, one reading per interval, before the run). Requests go over HTTP with
an installer's token through HA's real web app and auth; each row is the same number of
requests one after the other, the rows taking turns (round robin, so that the load of a
shared machine weighs on every row alike). References in the same run: HA's own
``/api/states/<entity>`` (the cheapest authenticated read HA serves) and HA's own
``/api/history/period`` for the same 24 h and 7 d windows.
"""

import logging
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import States, StatesMeta
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from sqlalchemy import insert, select

from custom_components.bess_dispatch.const import DOMAIN
from tests.custom_components.bess_dispatch.conftest import GATEWAY, SITE, setup_site
from tests.plugins.mosquitto_broker import Broker

REQUESTS = int(os.environ.get("BESS_BENCH_REQUESTS", "500"))
INTERVAL_S = int(os.environ.get("BESS_BENCH_INTERVAL_S", "300"))
WARMUP = 10
YEAR = timedelta(days=365)


def progress(text: str) -> None:
    print(f"[api_speed] {text}", file=sys.stderr, flush=True)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder first (it must exist before hass), then the custom integration."""


@pytest.fixture(autouse=True)
def config_dir_per_test(recorder_mock: Recorder, hass: HomeAssistant, tmp_path: Path) -> None:
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "configuration.yaml").write_text("")


def write_year(hass: HomeAssistant, entity_id: str, end: float) -> int:
    """A year of SoC readings straight into the recorder's tables (recorder thread)."""
    instance = get_instance(hass)
    with session_scope(session=instance.get_session()) as session:
        metadata_id = session.execute(
            select(StatesMeta.metadata_id).where(StatesMeta.entity_id == entity_id)
        ).scalar_one()
        start = end - YEAR.total_seconds()
        count = int(YEAR.total_seconds() // INTERVAL_S)
        batch = []
        for i in range(count):
            at = start + i * INTERVAL_S
            # A daily cycle between 20 % and 80 %: every reading differs from the last.
            value = 50 + 30 * ((i * INTERVAL_S % 86_400) / 43_200 - 1)
            batch.append(
                {
                    "state": f"{value:.2f}",
                    "last_updated_ts": at,
                    "last_changed_ts": None,
                    "last_reported_ts": None,
                    "metadata_id": metadata_id,
                }
            )
            if len(batch) == 20_000:
                session.execute(insert(States), batch)
                batch.clear()
        if batch:
            session.execute(insert(States), batch)
    return count


async def timed(client: TestClient, path: str, params: dict[str, str]) -> float:
    """Latency (s) of one GET, its body read."""
    started = time.perf_counter()
    response = await client.get(path, params=params)
    await response.read()
    elapsed = time.perf_counter() - started
    assert response.status == 200, (path, response.status, await response.text())
    return elapsed


async def test_api_speed_with_a_year_of_history(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    aiohttp_client: ClientSessionGenerator,
    hass_access_token: str,
    socket_enabled: None,
) -> None:
    # The test recorder echoes every SQL statement; logging them would be most of the cost.
    get_instance(hass).engine.echo = False
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # a line per request
    for component in ("http", "api", "history"):
        assert await async_setup_component(hass, component, {})
    await setup_site(hass, mosquitto_broker, options={"api_rate_limit_per_min": 10_000})
    soc = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{SITE}_{GATEWAY}_state_of_charge"
    )
    assert soc is not None
    await async_wait_recording_done(hass)
    progress(f"writing a year of {soc} every {INTERVAL_S} s ...")
    began = time.perf_counter()
    rows = await get_instance(hass).async_add_executor_job(
        write_year, hass, soc, dt_util.utcnow().timestamp() - 1
    )
    progress(f"{rows:,} rows in {time.perf_counter() - began:.1f} s")
    client = await aiohttp_client(
        hass.http.app, headers={"Authorization": f"Bearer {hass_access_token}"}
    )
    now = dt_util.utcnow()
    api = f"/api/bess_dispatch/v1/sites/{SITE}"
    day, week = (now - timedelta(days=1)).isoformat(), (now - timedelta(days=7)).isoformat()
    history_ha = {"filter_entity_id": soc, "end_time": now.isoformat(), "minimal_response": ""}
    per_day = 86_400 // INTERVAL_S
    rows_plan = [
        ("HA /api/states/<soc>  [reference]", f"/api/states/{soc}", {}, "1 state"),
        ("BESS status", f"{api}/status", {}, "1 site"),
        (
            "HA /api/history/period, 24 h  [history ref]",
            f"/api/history/period/{day}",
            history_ha,
            f"{per_day} states",
        ),
        ("BESS history 24 h, page 1 of 100", f"{api}/history", {"period": "24h"}, "100 items"),
        (
            "BESS history 24 h, limit 1000",
            f"{api}/history",
            {"period": "24h", "limit": "1000"},
            f"{min(1000, per_day + 1)} items",
        ),
        (
            "HA /api/history/period, 7 d",
            f"/api/history/period/{week}",
            history_ha,
            f"{7 * per_day} states",
        ),
        ("BESS history 7 d, page 1 of 100", f"{api}/history", {"period": "7d"}, "100 items"),
        (
            "BESS history 7 d, last page of 100",
            f"{api}/history",
            {"period": "7d", "page": str(7 * per_day // 100 + 1)},
            "<=100 items",
        ),
    ]
    # Round robin, one request of each row per round: the machine's load (shared cores)
    # then weighs on every row alike, so the ratios hold even when absolute times wander.
    latencies: list[list[float]] = [[] for _ in rows_plan]
    for round_ in range(WARMUP + REQUESTS):
        if round_ % 100 == 0:
            progress(f"round {round_} of {WARMUP + REQUESTS}")
        for row, (_, path, params, _) in enumerate(rows_plan):
            elapsed = await timed(client, path, params)
            if round_ >= WARMUP:
                latencies[row].append(elapsed)
    results = [
        (label, size, row_latencies)
        for (label, _, _, size), row_latencies in zip(rows_plan, latencies, strict=True)
    ]
    reference_mean = statistics.fmean(results[0][2])
    history_ref = {24: statistics.fmean(results[2][2]), 7: statistics.fmean(results[5][2])}
    print()
    print(
        f"Residential API over HA's web server, {rows:,} SoC readings in the recorder "
        f"(a year, every {INTERVAL_S} s), {REQUESTS} sequential requests per row, round robin "
        f"(+{WARMUP} warm-up)"
    )
    header = (
        f"{'request':<44}{'answer':>13}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'x /api/states':>15}{'x HA history':>14}"
    )
    print(header)
    print("-" * len(header))
    for label, size, row_latencies in results:
        ordered = sorted(row_latencies)
        mean = statistics.fmean(row_latencies)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        window = 7 if "7 d" in label else 24 if "24 h" in label else None
        vs_history = f"{mean / history_ref[window]:.2f}x" if window else "-"
        print(
            f"{label:<44}{size:>13}{1 / mean:>9.0f}{statistics.median(row_latencies) * 1e3:>9.2f}"
            f"{p99 * 1e3:>9.2f}{mean / reference_mean:>14.2f}x{vs_history:>14}"
        )
    print("x: mean latency relative to the reference (1.00x = as fast; higher = slower).")
