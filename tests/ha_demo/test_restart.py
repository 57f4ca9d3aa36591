"""Home Assistant stopped under a running site (SIGTERM, then SIGKILL) and started again: the
schedule book, the queued telemetry and the effective mode come back, the energy counters
continue (no drop that HA's statistics would read as a meter reset, i.e. doubled energy), the
Energy dashboard's long-term statistics continue across the restart (their sum is the
counter's own growth, plausible against the simulator's energy), and a subscriber at the
broker sees every telemetry message_id exactly once after de-duplication (SIGTERM: no
duplicate at all).

HA compiles statistics every 5 minutes (10 s past), so each case waits for the first period
that ends after the restart: up to 5 minutes more."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ha_demo.stack import DemoStack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(720)]

SCHEDULE_KW = 1.5
#: The Energy dashboard's counters and the simulator's energy each one measures.
STATISTICS = {
    "meter_import_ac": "grid_import",
    "meter_export_ac": "grid_export",
    "solar_net_generation_ac": "inverter",
    "battery_charge_ac": "battery_charge",
    "battery_discharge_ac": "battery_discharge",
    "load_demand_ac": "load",
}
#: No message for this long means the gateway has nothing in flight (bursts come every 10 s).
QUIET_S = 1.5
#: Read from the device's own lifetime counters: energy that flows while HA is down is
#: counted after the restart. The others are integrated from power: that energy is lost.
FROM_DEVICE_COUNTERS = {"meter_import_ac", "meter_export_ac", "solar_net_generation_ac"}
#: A lifetime value shown in HA lags the device by a poll (5 s) plus a telemetry round (10 s).
LAG_S = 15.0
#: Energy the site may move in 2 * LAG_S (10 kW at most), plus rounding.
TOLERANCE_KWH = 10.0 * 2 * LAG_S / 3600 + 0.005


@dataclass
class TelemetryCounter:
    """A persistent-session QoS 1 subscriber on the site's telemetry, counting message_ids."""

    seen: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    client: mqtt.Client | None = None
    last_at: float = float("-inf")  # time.monotonic() of the latest message

    def start(self, port: int, username: str, password: str, site: str) -> None:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="restart-test-counter", protocol=mqtt.MQTTv5
        )
        client.username_pw_set(username, password)
        client.reconnect_delay_set(min_delay=1, max_delay=2)

        def on_connect(c: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any = None) -> None:
            c.subscribe(f"dt/{site}/#", qos=1)

        def on_message(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
            payload = json.loads(message.payload)
            with self.lock:
                self.seen.append((message.topic, payload["message_id"], payload))
                self.last_at = time.monotonic()

        client.on_connect = on_connect
        client.on_message = on_message
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600  # the broker queues for us while we are away
        client.connect("127.0.0.1", port, clean_start=False, properties=properties)
        client.loop_start()
        self.client = client

    def stop(self) -> None:
        if self.client is not None:
            self.client.loop_stop()
            self.client.disconnect()

    def quiet_for(self, seconds: float) -> bool:
        """Nothing arrived for ``seconds``: the last telemetry burst is over."""
        with self.lock:
            return time.monotonic() - self.last_at >= seconds

    def ids(self) -> list[str]:
        with self.lock:
            return [message_id for _, message_id, _ in self.seen]

    def lifetime(self, metric: str) -> list[tuple[str, float]]:
        """(measured_at, kWh) of one metric's lifetime topic, de-duplicated, in time order."""
        with self.lock:
            rows = {
                message_id: (payload["measured_at"], payload["measurement_value"]["value"])
                for topic, message_id, payload in self.seen
                if topic.endswith(f"/{metric}/lifetime")
            }
        return sorted(rows.values())


def queued_ids(outbox: Path) -> set[str]:
    """message_ids waiting in the gateway's outbox (a read-only look at its SQLite file)."""
    # closing(): sqlite3's own context manager commits but leaves the connection open.
    with closing(sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)) as db:
        return {
            json.loads(payload)["message_id"]
            for (payload,) in db.execute("SELECT payload FROM outbox")
        }


async def until(check: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)
    return value


async def until_async(check: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)
    return value


async def state(stack: DemoStack, key: str) -> str:
    answer: str = (await stack.client.state(stack.entities[key]))["state"]
    return answer


async def schedule_events(stack: DemoStack, start: datetime) -> list[tuple[str, str, str]]:
    entity = stack.entities["schedule"]
    end = start + timedelta(hours=3)
    events = await stack.client.request(
        "GET",
        f"/api/calendars/{entity}?start={quote(start.isoformat())}&end={quote(end.isoformat())}",
    )
    return sorted((e["summary"], str(e["start"]), str(e["end"])) for e in events)


async def energy_history(stack: DemoStack, key: str, since: datetime) -> list[float]:
    entity = stack.entities[key]
    rows = await stack.client.request(
        "GET",
        f"/api/history/period/{quote(since.isoformat())}?filter_entity_id={entity}"
        "&minimal_response&no_attributes",
    )
    return [
        float(row["state"])
        for row in (rows[0] if rows else [])
        if row["state"] not in ("unknown", "unavailable")
    ]


async def first_recorded(stack: DemoStack, key: str, since: datetime) -> tuple[float, float]:
    """(time, kWh) of the counter's first number HA recorded: the statistics' zero point."""
    entity = stack.entities[key]
    rows = await stack.client.request(
        "GET",
        f"/api/history/period/{quote(since.isoformat())}?filter_entity_id={entity}&no_attributes",
    )
    for row in rows[0] if rows else []:
        try:
            value = float(row["state"])
        except ValueError:
            continue
        return datetime.fromisoformat(row["last_changed"]).timestamp(), value
    raise AssertionError(f"{entity} recorded no number since {since}")


def _seconds(value: float | str) -> float:
    """A statistics row's start/end: milliseconds since the epoch (or ISO in older HA)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    return float(value) / 1000.0


async def statistics_after(
    stack: DemoStack, since: datetime, after_s: float
) -> dict[str, list[dict[str, Any]]] | None:
    """recorder/statistics_during_period (5-minute sums and states) of the counters, once
    every counter has a period that ends after ``after_s``; None until then."""
    ids = [stack.entities[key] for key in STATISTICS]
    answer: dict[str, list[dict[str, Any]]] = await stack.client.ws(
        "recorder/statistics_during_period",
        start_time=since.isoformat(),
        statistic_ids=ids,
        period="5minute",
        types=["sum", "state"],
    )
    rows = {key: answer.get(stack.entities[key], []) for key in STATISTICS}
    if all(r and _seconds(r[-1]["end"]) > after_s for r in rows.values()):
        return rows
    return None


async def check_statistics_continue(
    stack: DemoStack, since: datetime, restarted_s: float
) -> list[str]:
    """The statistics' sums go on across the restart: never down, never reset (a reset would
    add the whole counter again), and as much energy as the simulator moved."""
    assert stack.simulator is not None
    statistics = await until_async(
        lambda: statistics_after(stack, since, restarted_s),
        "HA's statistics for a period after the restart",
        360,
    )
    report: list[str] = []
    for key, counter in STATISTICS.items():
        rows = statistics[key]
        zero_s, zero = await first_recorded(stack, key, since)
        sums = [row["sum"] for row in rows]
        assert sums == sorted(sums), f"{key}: negative energy {sums}"
        assert sums[0] >= 0, f"{key}: negative energy {sums}"
        # sum = state - zero point in every period: no new meter cycle, nothing doubled.
        for row in rows:
            assert row["state"] - row["sum"] == pytest.approx(zero, abs=1e-6), (key, rows)
        gained = sums[-1]
        end_s = _seconds(rows[-1]["end"])
        # Before its first sample the simulator did not exist: nothing flowed.
        since_s = max(zero_s - LAG_S, stack.simulator.energy.first_s)
        simulated = stack.simulator.energy.kwh_between(since_s, end_s)[counter]
        assert gained <= simulated * 1.02 + TOLERANCE_KWH, f"{key}: {gained} > {simulated}"
        if key in FROM_DEVICE_COUNTERS:
            assert gained >= simulated * 0.98 - TOLERANCE_KWH, f"{key}: {gained} < {simulated}"
        report.append(
            f"{key} {len(rows)} periods, sum {gained:.3f} kWh, simulator {simulated:.3f} kWh"
        )
    return report


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
async def test_restart_mid_schedule_loses_and_doubles_nothing(
    demo_stack: DemoStack, signum: int
) -> None:
    stack = demo_stack
    # The schedule under test stands in for the optimizer's commands: a fresh plan arriving
    # after the restart would replace it and hide whether the book came back.
    await asyncio.to_thread(stack.services.optimizer.stop)
    await stack.set_up_site()
    assert stack.entry_id is not None
    assert stack.simulator is not None
    counter = TelemetryCounter()
    counter.start(
        stack.services.broker_port,
        "optimizer",
        stack.services.optimizer_password,
        stack.site.site_id,
    )
    try:
        began = datetime.now(UTC)
        start = began.replace(microsecond=0) - timedelta(minutes=1)
        # A schedule that covers the whole test, loaded like an optimizer command.
        await stack.client.call_service(
            "bess_dispatch",
            "load_schedule",
            {
                "config_entry_id": stack.entry_id,
                "priority": "2",
                "schedule": [
                    {
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=2)).isoformat(),
                        "power_kw": SCHEDULE_KW,
                    }
                ],
            },
        )
        await until_async(
            lambda: _is(stack, "effective_mode", "setpoint"), "the schedule to drive the battery"
        )
        await until(lambda: len(counter.ids()) >= 10, "telemetry at the broker")
        mode_before = await state(stack, "effective_mode")
        setpoint_before = await state(stack, "setpoint")
        events_before = await schedule_events(stack, start)
        assert events_before, "the calendar shows the schedule"

        # Broker away: the gateway queues telemetry in its outbox. Stopped between two
        # telemetry bursts: a broker that dies mid-burst may have routed a publish whose PUBACK
        # it never wrote, and the gateway rightly sends that one again (at least once). Such
        # duplicates come from the broker, and this test is about Home Assistant's stop.
        await until(lambda: counter.quiet_for(QUIET_S), "a gap between telemetry bursts", 30)
        await asyncio.to_thread(stack.services.broker.stop)
        outbox = next((stack.config_dir / ".storage").glob("bess_dispatch.*.outbox.sqlite"))
        queued = await until(lambda: queued_ids(outbox), "telemetry queued in the outbox", 40)
        await asyncio.sleep(11)  # one more telemetry round into the outbox
        queued = queued_ids(outbox)

        await stack.stop_hass(signum)
        queued_at_stop = queued_ids(outbox)
        assert queued <= queued_at_stop | set(counter.ids())
        stack.services.broker.start()
        stack.services.broker.wait_for_port(stack.services.broker_port, 15)
        await stack.start_hass()
        restarted_s = time.time()
        await stack.wait_for_entry_loaded()

        # The outbox drains after the restart: every queued reading reaches the broker.
        await until(
            lambda: queued_at_stop <= set(counter.ids()),
            "every queued message_id at the broker",
            90,
        )
        await until_async(
            lambda: _is(stack, "messages_queued", "0"), "the outbox to drain after the restart"
        )
        await asyncio.sleep(12)  # a fresh telemetry round after the restart
        assert await state(stack, "effective_mode") == mode_before
        assert await state(stack, "setpoint") == setpoint_before
        assert await schedule_events(stack, start) == events_before

        ids = counter.ids()
        duplicates = len(ids) - len(set(ids))
        if signum == signal.SIGTERM:
            doubled = sorted({i for i in ids if ids.count(i) > 1})
            assert duplicates == 0, f"a clean stop resends nothing: {doubled}"

        # Lifetime counters, as sent and as HA records them, never go down.
        for metric in (
            "meter_import_ac",
            "meter_export_ac",
            "battery_charge_ac",
            "battery_discharge_ac",
            "solar_net_generation_ac",
        ):
            sent = [value for _, value in counter.lifetime(metric)]
            assert sent == sorted(sent), f"{metric} lifetime went down on the wire: {sent}"
            recorded = await energy_history(stack, metric, began - timedelta(minutes=5))
            assert recorded == sorted(recorded), f"{metric} state went down in HA: {recorded}"
        statistics = await check_statistics_continue(
            stack, began - timedelta(minutes=10), restarted_s
        )
        charged = counter.lifetime("battery_charge_ac")
        print("\n".join(statistics))
        print(
            f"{signal.Signals(signum).name}: {len(ids)} messages, {duplicates} resent, "
            f"{len(queued_at_stop)} queued at stop; battery charge counter "
            f"{charged[0][1]:.4f} -> {charged[-1][1]:.4f} kWh over {len(charged)} readings"
        )
    finally:
        counter.stop()


async def _is(stack: DemoStack, key: str, wanted: str) -> bool:
    return await state(stack, key) == wanted
