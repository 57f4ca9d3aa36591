"""Benchmark (not a test of the normal run): command on the broker -> effective-mode entity.

Run: ``scripts/env python -m pytest benchmarks/test_command_latency.py -s -p no:cacheprovider``
(``BESS_BENCH_COMMANDS=200`` for a short run). The normal test run never collects this file
(``testpaths = ["tests"]``).

A real Home Assistant loads the integration against a real Mosquitto on loopback. The
optimizer's client publishes 1,000 intraday (p2) commands one after the other, alternating
SETPOINT and NO_DISCHARGE so that every command changes the effective mode. Latency is from
the moment just before the client's ``publish`` call to the moment the ``state_changed``
event of the effective-mode sensor fires in HA. The reference, measured on the very same
messages in the same run, is a bare paho subscriber on the command topic: the broker round
trip any gateway pays before its own work starts.

Every command covers the same three hours, so each newer one hides the older one and the
schedule book stays one command deep, as in production (the optimizer replaces p2 every
30 minutes).
"""

import asyncio
import os
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from paho.mqtt.enums import CallbackAPIVersion

# The integration's own copy of the protocol types (what the runtime compares against).
from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import (
    Command,
    ControlMode,
    Priority,
    ScheduleEntry,
)
from custom_components.bess_dispatch.const import DOMAIN
from tests.custom_components.bess_dispatch.conftest import (
    GATEWAY,
    SITE,
    OptimizerClient,
    setup_site,
)
from tests.plugins.mosquitto_broker import Broker

COMMANDS = int(os.environ.get("BESS_BENCH_COMMANDS", "1000"))
WARMUP = 20
GOAL_P99_S = 0.050
COMMAND_TOPIC = f"cmd/{SITE}/battery/power"
MODES = (ControlMode.SETPOINT, ControlMode.NO_DISCHARGE)
QUIET_LOG = "".join(f"log_type {kind}\n" for kind in ("error", "warning", "notice", "information"))
SCENARIOS = {
    False: "Mosquitto and paho defaults (Nagle on)",
    True: "set_tcp_nodelay true on the broker, TCP_NODELAY on the optimizer's client",
}


def progress(text: str) -> None:
    print(f"[command_latency] {text}", file=sys.stderr, flush=True)


class ArrivalClock:
    """A bare paho subscriber on the command topic: when each message id arrived."""

    def __init__(self, broker: Broker) -> None:
        self.arrived: dict[bytes, float] = {}
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-reference")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(COMMAND_TOPIC, qos=1)
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(5), "reference subscriber did not subscribe"

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.arrived[msg.payload] = time.perf_counter()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class BenchBroker(Broker):
    """The tests' Mosquitto, logging connections only (not every packet), and optionally
    with ``set_tcp_nodelay true`` (Nagle off on the broker's sockets)."""

    nodelay: bool = False

    def _config_text(self, port: int) -> str:
        text = super()._config_text(port).replace("log_type all\n", QUIET_LOG)
        return text + ("set_tcp_nodelay true\n" if self.nodelay else "")


def no_nagle(client: mqtt.Client) -> None:
    sock = client.socket()
    assert isinstance(sock, socket.socket)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@pytest.fixture(params=[False, True], ids=["defaults", "nodelay"])
def broker(
    request: pytest.FixtureRequest, socket_enabled: None, tmp_path: Path
) -> Iterator[Broker]:
    made = BenchBroker(directory=tmp_path / "mosquitto")
    made.nodelay = bool(request.param)
    made.start()
    yield made
    made.stop()


@pytest.fixture
def clients(broker: Broker) -> Iterator[tuple[OptimizerClient, ArrivalClock]]:
    optimizer = OptimizerClient(broker)
    reference = ArrivalClock(broker)
    if isinstance(broker, BenchBroker) and broker.nodelay:
        no_nagle(optimizer.client)
        no_nagle(reference.client)
    yield optimizer, reference
    reference.close()
    optimizer.close()


def p2_command(begin: datetime, index: int) -> Command:
    """A 3-hour p2 command from ``begin``, its mode alternating with ``index``."""
    now = dt_util.utcnow()
    mode = MODES[index % 2]
    entry = ScheduleEntry(
        begin,
        begin + timedelta(hours=3),
        mode,
        power_kw=1.0 if mode is ControlMode.SETPOINT else None,
    )
    return Command.create(
        command_id=f"bench-{index}", priority=Priority.INTRADAY, schedule=[entry], now=now
    )


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(rows: dict[str, list[float]], reference: str) -> str:
    header = (
        f"{'path (loopback, QoS 1)':<52} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
        f" {'max ms':>8} {'mean ms':>8} {'p50 x':>7} {'p99 x':>7}"
    )
    lines = [header, "-" * len(header)]
    ref = rows[reference]
    for name, samples in rows.items():
        p50, p99 = quantile(samples, 0.5), quantile(samples, 0.99)
        lines.append(
            f"{name:<52} {len(samples):>5} {p50 * 1e3:>8.2f} {quantile(samples, 0.9) * 1e3:>8.2f}"
            f" {p99 * 1e3:>8.2f} {max(samples) * 1e3:>8.2f} {statistics.fmean(samples) * 1e3:>8.2f}"
            f" {p50 / quantile(ref, 0.5):>6.1f}x {p99 / quantile(ref, 0.99):>6.1f}x"
        )
    return "\n".join(lines)


async def test_command_to_effective_mode_latency(
    hass: HomeAssistant,
    enable_custom_integrations: None,
    broker: Broker,
    clients: tuple[OptimizerClient, ArrivalClock],
) -> None:
    optimizer, reference = clients
    entry = await setup_site(hass, broker)
    runtime = entry.runtime_data.runtime
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not runtime.link_status.connected:
        assert loop.time() < deadline, "the gateway did not connect to the broker"
        await asyncio.sleep(0.01)
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{SITE}_{GATEWAY}_effective_mode"
    )
    assert entity_id is not None

    changed: asyncio.Future[tuple[float, str]] | None = None

    @callback
    def on_state_changed(event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        if changed is not None and not changed.done() and new_state is not None:
            changed.set_result((time.perf_counter(), new_state.state))

    @callback
    def is_effective_mode(event_data: EventStateChangedData) -> bool:
        return event_data["entity_id"] == entity_id

    remove = hass.bus.async_listen(
        EVENT_STATE_CHANGED, on_state_changed, event_filter=is_effective_mode
    )
    start = dt_util.utcnow().replace(second=0, microsecond=0)
    gateway_s: list[float] = []
    broker_s: list[float] = []
    progress(f"{WARMUP} warm-up commands, then {COMMANDS} measured")
    try:
        for index in range(WARMUP + COMMANDS):
            command = p2_command(start, index)
            payload = command.to_payload()
            expected = command.schedule[0].mode.value.lower()
            changed = loop.create_future()
            published_at = time.perf_counter()
            optimizer.client.publish(COMMAND_TOPIC, payload, qos=1)
            arrived_at, state = await asyncio.wait_for(changed, timeout=5)
            assert state == expected, f"command {index}: {state} instead of {expected}"
            if index >= WARMUP:
                gateway_s.append(arrived_at - published_at)
                # The reference subscriber's thread may record a moment after HA is done.
                for _ in range(500):
                    if payload in reference.arrived:
                        break
                    await asyncio.sleep(0.001)
                broker_s.append(reference.arrived.pop(payload) - published_at)
            if (index + 1 - WARMUP) % 200 == 0 and index >= WARMUP:
                progress(
                    f"{index + 1 - WARMUP}/{COMMANDS}: p50 so far"
                    f" {statistics.median(gateway_s) * 1e3:.2f} ms"
                )
    finally:
        remove()
    assert runtime.state is not None
    assert runtime.state.decision.source.value == "p2"
    assert len(runtime.dispatcher.book) == 1, "older p2 commands should have been pruned"
    await hass.config_entries.async_unload(entry.entry_id)

    reference_name = "publish -> bare paho subscriber  [reference]"
    rows = {
        reference_name: broker_s,
        "publish -> effective_mode state_changed in HA": gateway_s,
    }
    p99 = quantile(gateway_s, 0.99)
    verdict = "met" if p99 <= GOAL_P99_S else "MISSED"
    print()
    nodelay = isinstance(broker, BenchBroker) and broker.nodelay
    print(f"Command -> effective mode, {COMMANDS} commands (+{WARMUP} warm-up), loopback")
    print(f"scenario: {SCENARIOS[nodelay]}")
    print(table(rows, reference_name))
    print(f"goal p99 <= {GOAL_P99_S * 1e3:.0f} ms: {verdict} ({p99 * 1e3:.2f} ms)")
    print(
        "x columns: ratio to the reference row (same messages, same run). "
        f"Python {sys.version.split()[0]}."
    )
