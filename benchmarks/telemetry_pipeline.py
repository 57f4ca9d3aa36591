"""Benchmark: telemetry readings -> protocol messages -> outbox/forwarder -> real Mosquitto.

Run: ``scripts/env python benchmarks/telemetry_pipeline.py [--quick] [--workdir DIR]``

Part 1, live: 50 metrics read at 1 Hz and published at 1 Hz (lifetime + power every second,
windowed energy when a PT5M window closes) for 10 simulated minutes, driven as fast as the
pipeline goes. A real subscriber in another process counts arrivals by ``message_id``.

Part 2, outage: 24 h of readings at the default cadence (one a minute per metric) queued in
the outbox while disconnected, then connect and drain at the default backlog rate and
unthrottled; also the time until the newest message of every topic (each metric's latest
reading) arrived.

Every table has a reference row measured in the same run: a bare paho publish loop of the
same messages (no outbox), QoS 1, the same 20 messages in flight. CPU is
``time.process_time`` of this process (the subscriber and the broker are other processes);
memory is the tracemalloc peak of a separate traced run plus the SQLite file size (the
outbox's rows live in SQLite's own memory and file, which tracemalloc does not see).
Progress goes to stderr, tables to stdout.
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import re
import resource
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# The pure package lives under the integration; pure/ links it as ``bess_dispatch_core``.
# The repository root gives the tests' Mosquitto helper.
_REPO = Path(__file__).resolve().parent.parent
for _path in (_REPO, _REPO / "pure"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from bess_dispatch_core.gateway.energy_counter import PowerIntegratingCounter  # noqa: E402
from bess_dispatch_core.gateway.forwarder import Forwarder  # noqa: E402
from bess_dispatch_core.gateway.outbox import Outbox  # noqa: E402
from bess_dispatch_core.gateway.telemetry_scheduler import (  # noqa: E402
    DEFAULT_INTERVAL,
    MetricCadence,
    TelemetryScheduler,
)
from bess_dispatch_core.gateway.window_accumulator import (  # noqa: E402
    ClosedWindow,
    WindowAccumulator,
)
from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink  # noqa: E402
from bess_dispatch_core.protocol import (  # noqa: E402
    METRICS,
    LifetimeTelemetry,
    PowerTelemetry,
    WindowedTelemetry,
    lifetime_topic,
    power_topic,
    windowed_topic,
)
from tests.plugins.mosquitto_broker import Broker  # noqa: E402

SITE = "site-bench"
GATEWAY = "gw-bench"
METRIC_COUNT = 50
WINDOW = timedelta(minutes=5)
MAX_IN_FLIGHT = 20  # the forwarder's default; paho's default max_inflight_messages too
DEFAULT_BACKLOG_RATE = 20.0  # the forwarder's default, messages/s
UNTHROTTLED_RATE = 1e9  # the forwarder refuses inf; this never limits
ARRIVAL_STALL_S = 20.0  # give up waiting for the subscriber after this long without progress

_MESSAGE_ID = re.compile(rb'"message_id":"([^"]+)"')

type Message = tuple[str, bytes]


def progress(text: str) -> None:
    print(f"[telemetry_pipeline {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def message_id(payload: bytes) -> bytes:
    match = _MESSAGE_ID.search(payload)
    if match is None:
        raise ValueError(f"payload without message_id: {payload[:80]!r}")
    return match[1]


# --- the simulated gateway --------------------------------------------------------------------
def metric_names(count: int) -> list[str]:
    """Catalogue names first, then a second device's copies (``…_2``) up to ``count``."""
    names = list(METRICS)
    index = 2
    while len(names) < count:
        names += [f"{name}_{index}" for name in METRICS]
        index += 1
    return names[:count]


class SimulatedGateway:
    """Power readings -> lifetime counters, PT5M windows and the per-metric cadence."""

    def __init__(self, metrics: list[str], start: datetime, cadence: timedelta) -> None:
        self.metrics = metrics
        self.scheduler = TelemetryScheduler(
            [MetricCadence(name, cadence) for name in metrics], now=start
        )
        self.counters = {name: PowerIntegratingCounter("kW") for name in metrics}
        self.windows = {name: WindowAccumulator(WINDOW) for name in metrics}
        self.closed: dict[str, list[ClosedWindow]] = {name: [] for name in metrics}
        self.latest: dict[str, tuple[float, float]] = {}
        self.topics = {
            name: (
                lifetime_topic(SITE, GATEWAY, name),
                power_topic(SITE, GATEWAY, name),
                windowed_topic(SITE, GATEWAY, name, WINDOW),
            )
            for name in metrics
        }
        self._origin = start.timestamp()

    def power_kw(self, index: int, at: datetime) -> float:
        """A smooth, different curve per metric (a day-long sine plus a fast ripple)."""
        seconds = at.timestamp() - self._origin
        return 3.0 * math.sin(seconds / 13751 + index) + 0.2 * math.sin(seconds / 7 + index)

    def read(self, at: datetime) -> list[Message]:
        """One reading of every metric at ``at``; returns the messages due now."""
        for index, name in enumerate(self.metrics):
            kw = self.power_kw(index, at)
            lifetime = self.counters[name].update(kw, at)
            self.closed[name] += self.windows[name].update(at, lifetime).closed
            self.latest[name] = (kw, lifetime)
        messages: list[Message] = []
        for name in self.scheduler.due(at):
            kw, lifetime = self.latest[name]
            lifetime_at, power_at, windowed_at = self.topics[name]
            messages.append(
                (
                    lifetime_at,
                    LifetimeTelemetry.create(value=lifetime, measured_at=at, now=at).to_payload(),
                )
            )
            messages.append(
                (power_at, PowerTelemetry.create(value=kw, measured_at=at, now=at).to_payload())
            )
            for window in self.closed[name]:
                telemetry = WindowedTelemetry.create(
                    value=window.energy_kwh,
                    window_start=window.start,
                    window_end=window.end,
                    now=at,
                )
                messages.append((windowed_at, telemetry.to_payload()))
            self.closed[name] = []
        return messages


def simulate(start: datetime, duration: timedelta, step: timedelta) -> Iterator[list[Message]]:
    """Messages of each reading step of a 50-metric site, publishing at every ``step``."""
    gateway = SimulatedGateway(metric_names(METRIC_COUNT), start, step)
    at = start
    while at <= start + duration:
        yield gateway.read(at)
        at += step


# --- the broker and the subscriber ------------------------------------------------------------
class BenchBroker(Broker):
    """The tests' Mosquitto, minus per-packet logging, with no cap on a subscriber's queue
    (Mosquitto drops QoS 1 messages beyond 1,000 queued; the subscriber must count all)."""

    def _config_text(self, port: int) -> str:
        quiet = "".join(f"log_type {kind}\n" for kind in ("error", "warning", "notice"))
        text = (
            super()._config_text(port).replace("log_type all\n", quiet + "log_type information\n")
        )
        return text + "max_queued_messages 0\n"


def subscriber_main(host: str, port: int, commands: Connection, count: Any) -> None:
    """Another process: subscribes ``dt/#`` (QoS 1) and records each message_id's arrival."""
    arrivals: dict[bytes, float] = {}
    duplicates = 0
    lock = threading.Lock()
    subscribed = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal duplicates
        now = time.monotonic()  # CLOCK_MONOTONIC: comparable with the parent's on Linux
        key = message_id(msg.payload)
        with lock:
            if key in arrivals:
                duplicates += 1
            else:
                arrivals[key] = now
                count.value = len(arrivals)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-subscriber")
    client.on_connect = lambda c, u, f, rc, p: c.subscribe("dt/#", qos=1)
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    subscribed.wait(10)
    commands.send("ready")
    while True:
        command = commands.recv()
        if command == "reset":
            with lock:
                arrivals.clear()
                duplicates = 0
                count.value = 0
            commands.send("ok")
        elif command == "report":
            with lock:
                commands.send((dict(arrivals), duplicates))
        else:
            break
    client.disconnect()
    client.loop_stop()


class Subscriber:
    """Handle on the subscriber process."""

    def __init__(self, broker: Broker) -> None:
        context = multiprocessing.get_context("spawn")
        self._count = context.RawValue("q", 0)
        self._commands, remote = context.Pipe()
        self._process = context.Process(
            target=subscriber_main,
            args=(broker.host, broker.port, remote, self._count),
            daemon=True,
        )
        self._process.start()
        if not self._commands.poll(30) or self._commands.recv() != "ready":
            raise RuntimeError("the subscriber process did not come up")

    @property
    def count(self) -> int:
        return int(self._count.value)

    def reset(self) -> None:
        self._commands.send("reset")
        self._commands.recv()

    def wait_for(self, expected: int) -> float:
        """Wait until ``expected`` distinct messages arrived; returns time.monotonic()."""
        last, last_change = -1, time.monotonic()
        while (current := self.count) < expected:
            if current != last:
                last, last_change = current, time.monotonic()
            elif time.monotonic() - last_change > ARRIVAL_STALL_S:
                progress(f"subscriber stalled at {current}/{expected}")
                break
            time.sleep(0.002)
        return time.monotonic()

    def report(self) -> tuple[dict[bytes, float], int]:
        self._commands.send("report")
        arrivals, duplicates = self._commands.recv()
        return arrivals, duplicates

    def close(self) -> None:
        self._commands.send("stop")
        self._process.join(10)


# --- measurements -----------------------------------------------------------------------------
@dataclass
class Run:
    """One row: what was sent, how long it took, what it cost."""

    name: str
    messages: int
    acked_s: float  # until the broker acknowledged the last one
    arrived_s: float  # until the subscriber had every one
    cpu_s: float
    arrived: int = 0
    duplicates: int = 0
    python_peak_mb: float | None = None
    sqlite_peak_mb: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.acked_s if self.acked_s > 0 else float("nan")

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_s * 1e3 / self.messages if self.messages else float("nan")


def sqlite_bytes(path: Path) -> int:
    """The outbox's footprint on disk: the database plus its write-ahead log."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


class SizeWatch:
    """Samples the outbox file size in a thread (the peak lies between our checkpoints)."""

    def __init__(self, path: Path, interval: float = 0.05) -> None:
        self.peak = 0
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, sqlite_bytes(self._path))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, sqlite_bytes(self._path))
        return self.peak


def bare_paho(broker: Broker, subscriber: Subscriber, messages: list[Message], name: str) -> Run:
    """Reference: publish the same messages with a plain paho client, no outbox."""
    subscriber.reset()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare-paho")
    client.max_inflight_messages_set(MAX_IN_FLIGHT)
    connected, done = threading.Event(), threading.Event()
    # Our own window of 20: paho rescans its whole queue on every PUBACK, which turns a
    # long queue quadratic, and a real publisher would not queue 100,000 messages there.
    window = threading.Semaphore(MAX_IN_FLIGHT)
    acked = 0

    def on_publish(*_args: object) -> None:
        nonlocal acked
        acked += 1
        window.release()
        if acked == len(messages):
            done.set()

    client.on_connect = lambda *args: connected.set()
    client.on_publish = on_publish
    client.connect(broker.host, broker.port)
    client.loop_start()
    connected.wait(10)
    began, cpu = time.monotonic(), time.process_time()
    for topic, payload in messages:
        window.acquire()
        client.publish(topic, payload, qos=1)
    done.wait(600)
    acked_at, cpu = time.monotonic(), time.process_time() - cpu
    arrived_at = subscriber.wait_for(len(messages))
    client.disconnect()
    client.loop_stop()
    arrivals, duplicates = subscriber.report()
    return Run(
        name, len(messages), acked_at - began, arrived_at - began, cpu, len(arrivals), duplicates
    )


class Pipeline:
    """Outbox + MqttLink + Forwarder, as the integration wires them."""

    def __init__(
        self,
        outbox_path: Path,
        broker: Broker,
        *,
        backlog_rate: float = DEFAULT_BACKLOG_RATE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = Outbox(outbox_path)
        self.link = MqttLink(BrokerSettings(host=broker.host, port=broker.port))
        self.forwarder = Forwarder(
            self.outbox,
            self.link,
            backlog_rate=backlog_rate,
            max_in_flight=MAX_IN_FLIGHT,
            clock=clock,
        )

    def connect(self) -> None:
        self.link.start()
        if not self.link.wait_connected(10):
            raise RuntimeError("the link did not connect")
        self.forwarder.start()

    def close(self) -> None:
        self.forwarder.stop()
        self.link.stop()
        self.outbox.close()


def through_forwarder(
    broker: Broker,
    subscriber: Subscriber,
    outbox_path: Path,
    name: str,
    source: Callable[[], Iterator[list[Message]]],
    *,
    traced: bool = False,
) -> Run:
    """Submit everything ``source`` yields while connected; wait until all arrived."""
    subscriber.reset()
    pipeline = Pipeline(outbox_path, broker)
    pipeline.connect()
    watch = SizeWatch(outbox_path)
    if traced:
        tracemalloc.start()
    began, cpu = time.monotonic(), time.process_time()
    sent = 0
    for batch in source():
        for topic, payload in batch:
            pipeline.forwarder.submit(topic, payload, qos=1)
        sent += len(batch)
    if not pipeline.forwarder.wait_drained(600):
        progress(f"{name}: not drained after 600 s")
    acked_at, cpu = time.monotonic(), time.process_time() - cpu
    peak = None
    if traced:
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    arrived_at = subscriber.wait_for(sent)
    sqlite_peak = watch.stop() / 1e6
    pipeline.close()
    arrivals, duplicates = subscriber.report()
    return Run(
        name,
        sent,
        acked_at - began,
        arrived_at - began,
        cpu,
        len(arrivals),
        duplicates,
        python_peak_mb=peak,
        sqlite_peak_mb=sqlite_peak,
    )


def build_backlog(
    broker: Broker, path: Path, start: datetime, hours: float
) -> tuple[Run, list[Message]]:
    """Queue ``hours`` of default-cadence telemetry while disconnected (link never started)."""
    simulated_now = [start.timestamp()]
    pipeline = Pipeline(path, broker, clock=lambda: simulated_now[0])
    tracemalloc.start()
    began, cpu = time.monotonic(), time.process_time()
    sent = 0
    next_report = time.monotonic() + 5
    for batch in simulate(start, timedelta(hours=hours), DEFAULT_INTERVAL):
        simulated_now[0] += DEFAULT_INTERVAL.total_seconds()
        for topic, payload in batch:
            pipeline.forwarder.submit(topic, payload, qos=1)
        sent += len(batch)
        if time.monotonic() > next_report:
            progress(f"outage: {sent:,} messages queued")
            next_report = time.monotonic() + 5
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    queued = len(pipeline.outbox)
    drops = pipeline.outbox.drop_totals().total
    pipeline.outbox.close()  # checkpoints the WAL into the database file
    messages = backlog_messages(path)
    run = Run(
        f"queue {hours:g} h while disconnected (traced)",
        sent,
        elapsed,
        elapsed,
        cpu,
        python_peak_mb=peak,
        sqlite_peak_mb=sqlite_bytes(path) / 1e6,
        extra={"queued": f"{queued:,}", "dropped": f"{drops:,}"},
    )
    return run, messages


def backlog_messages(path: Path) -> list[Message]:
    """The stored messages, newest first (the order the forwarder drains the backlog in)."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT topic, payload FROM outbox ORDER BY seq DESC").fetchall()
    return [(str(topic), bytes(payload)) for topic, payload in rows]


def newest_per_topic(messages: list[Message]) -> set[bytes]:
    """message_ids of each topic's latest message (``messages`` newest first)."""
    seen: dict[str, bytes] = {}
    for topic, payload in messages:
        seen.setdefault(topic, message_id(payload))
    return set(seen.values())


def drain(
    broker: Broker,
    subscriber: Subscriber,
    path: Path,
    name: str,
    *,
    backlog_rate: float,
    newest: set[bytes],
    order: dict[bytes, int],
    sample_s: float | None,
) -> Run:
    """Connect a pipeline to a stored backlog; drain it (or sample the rate for ``sample_s``)."""
    subscriber.reset()
    pipeline = Pipeline(path, broker, backlog_rate=backlog_rate)
    total = len(pipeline.outbox)
    began, cpu = time.monotonic(), time.process_time()
    pipeline.connect()
    if sample_s is None:
        pipeline.forwarder.wait_drained(3600)
        acked_at = time.monotonic()
        left = 0
    else:
        time.sleep(sample_s)
        acked_at = time.monotonic()
        left = len(pipeline.outbox)
    cpu = time.process_time() - cpu
    sent = total - left
    arrived_at = subscriber.wait_for(sent)
    pipeline.close()
    arrivals, duplicates = subscriber.report()
    newest_at = [arrivals[key] for key in newest if key in arrivals]
    newest_s = max(newest_at) - began if len(newest_at) == len(newest) else float("nan")
    run = Run(name, sent, acked_at - began, arrived_at - began, cpu, len(arrivals), duplicates)
    run.extra["newest"] = f"{newest_s:.2f}"
    run.extra["order"] = f"{newest_first_share(arrivals, newest, order):.1%}"
    if sample_s is not None:
        # Messages beyond the newest-per-topic burst went out at the backlog rate.
        backlog_rate_seen = (sent - len(newest)) / (run.acked_s - newest_s)
        projected = newest_s + (total - len(newest)) / backlog_rate_seen
        run.extra["projected"] = f"{projected:,.0f}"
        run.extra["projected_h"] = f"{projected / 3600:.2f}"
        run.extra["rate"] = f"{backlog_rate_seen:.1f}"
    return run


def newest_first_share(
    arrivals: dict[bytes, float], newest: set[bytes], order: dict[bytes, int]
) -> float:
    """Share of consecutive backlog arrivals in newest-first order (``order``: 0 = newest)."""
    backlog = sorted((at, order[key]) for key, at in arrivals.items() if key not in newest)
    pairs = list(itertools.pairwise(rank for _at, rank in backlog))
    return sum(1 for earlier, later in pairs if earlier < later) / len(pairs) if pairs else 1.0


# --- output -----------------------------------------------------------------------------------
def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def live_table(title: str, rows: list[Run], reference: Run, realtime_rate: float) -> None:
    print()
    print(title)
    header = (
        f"{'row':<50} {'msgs':>7} {'acked s':>8} {'msg/s':>8} {'x ref':>6} {'e2e s':>7}"
        f" {'CPU ms/msg':>10} {'x ref':>6} {'py peak MB':>10} {'sqlite MB':>9}"
        f" {'lost':>5} {'dup':>4}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        cpu_ratio = row.cpu_ms_per_message / reference.cpu_ms_per_message
        print(
            f"{row.name:<50} {row.messages:>7,} {fmt(row.acked_s, 2):>8} {fmt(row.rate, 0):>8}"
            f" {row.rate / reference.rate:>5.2f}x {fmt(row.arrived_s, 2):>7}"
            f" {fmt(row.cpu_ms_per_message, 3):>10} {cpu_ratio:>5.2f}x"
            f" {fmt(row.python_peak_mb):>10} {fmt(row.sqlite_peak_mb, 2):>9}"
            f" {row.messages - row.arrived if row.arrived else '-':>5} {row.duplicates:>4}"
        )
    full = rows[-2]
    share = full.cpu_ms_per_message * realtime_rate / 10
    print(
        f"at real time ({realtime_rate:,.0f} msg/s: 50 metrics x lifetime + power at 1 Hz, + "
        f"windows) the full pipeline uses {share:.1f} % of one core and has "
        f"{full.rate / realtime_rate:,.0f}x headroom."
    )
    print(
        "'acked': broker PUBACK of the last message; 'e2e': the subscriber had all; "
        "x ref: msg/s and CPU per message relative to the reference row."
    )


def drain_table(title: str, build: Run, rows: list[Run], reference: Run) -> None:
    print()
    print(title)
    print(
        f"build: {build.messages:,} messages ({build.extra['queued']} queued,"
        f" {build.extra['dropped']} dropped) in {build.acked_s:.1f} s, "
        f"{build.cpu_ms_per_message:.3f} CPU ms/msg (under tracemalloc); "
        f"python peak {build.python_peak_mb:.1f} MB; sqlite file {build.sqlite_peak_mb:.1f} MB"
    )
    header = (
        f"{'row':<46} {'msgs':>8} {'newest s':>8} {'acked s':>9} {'msg/s':>8} {'x ref':>6}"
        f" {'drain s':>9} {'e2e s':>8} {'CPU ms/msg':>10} {'lost':>5} {'dup':>4} {'order':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        drain_s = row.extra.get("projected", fmt(row.acked_s, 1))
        if "projected" in row.extra:
            drain_s += "*"
        rate = float(row.extra.get("rate", row.rate))
        print(
            f"{row.name:<46} {row.messages:>8,} {row.extra.get('newest', '-'):>8}"
            f" {fmt(row.acked_s, 2):>9} {fmt(rate, 0):>8} {rate / reference.rate:>5.2f}x"
            f" {drain_s:>9} {fmt(row.arrived_s, 2):>8} {fmt(row.cpu_ms_per_message, 3):>10}"
            f" {max(0, row.messages - row.arrived):>5} {row.duplicates:>4}"
            f" {row.extra.get('order', '-'):>6}"
        )
    print(
        "'newest s': connect -> the latest message of every topic arrived; 'drain s': connect ->"
        " backlog empty;\n* projected: newest s + rest of the backlog / the backlog rate"
        " measured over the sampled seconds (that row's msg/s: backlog messages only);\n"
        "order: share of consecutive backlog arrivals that came newest first."
    )
    for row in rows:
        if "projected_h" in row.extra:
            print(f"projected drain at the default rate: {row.extra['projected_h']} h")


# --- main -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 simulated minute, 1 h outage")
    parser.add_argument("--workdir", type=Path, help="where the broker and outbox files go")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    live_minutes = 1.0 if args.quick else 10.0
    outage_hours = 1.0 if args.quick else 24.0
    sample_s = 5.0 if args.quick else 30.0

    workdir = Path(tempfile.mkdtemp(prefix="bess-bench-", dir=args.workdir))
    progress(f"work directory {workdir}")
    broker = BenchBroker(directory=workdir / "mosquitto")
    broker.start()
    subscriber = Subscriber(broker)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        live_start = now - timedelta(minutes=live_minutes)

        def live() -> Iterator[list[Message]]:
            return simulate(live_start, timedelta(minutes=live_minutes), timedelta(seconds=1))

        progress(f"live: generating {live_minutes:g} simulated minutes of 50 metrics at 1 Hz")
        cpu = time.process_time()
        messages = [message for batch in live() for message in batch]
        generation = Run("generate messages only (no I/O)", len(messages), 0.0, 0.0, 0.0)
        generation.cpu_s = time.process_time() - cpu
        generation.acked_s = generation.cpu_s
        generation.arrived_s = float("nan")
        progress(f"live: {len(messages):,} messages; bare paho reference")
        reference = bare_paho(broker, subscriber, messages, "bare paho publish loop  [reference]")
        progress("live: outbox + forwarder, same messages")
        prebuilt = through_forwarder(
            broker,
            subscriber,
            workdir / "live-prebuilt.sqlite",
            "outbox + forwarder, same pre-built messages",
            lambda: iter([messages]),
        )
        progress("live: full pipeline (readings -> messages -> forwarder)")
        full = through_forwarder(
            broker,
            subscriber,
            workdir / "live-full.sqlite",
            "full pipeline: readings -> broker",
            live,
        )
        progress("live: full pipeline again under tracemalloc (memory only)")
        traced = through_forwarder(
            broker,
            subscriber,
            workdir / "live-traced.sqlite",
            "full pipeline, tracemalloc on (memory only)",
            live,
            traced=True,
        )
        realtime = len(messages) / (live_minutes * 60)
        live_table(
            f"Live: 50 metrics at 1 Hz for {live_minutes:g} simulated minutes, as fast as it goes",
            [reference, generation, prebuilt, full, traced],
            reference,
            realtime,
        )

        progress(f"outage: queueing {outage_hours:g} h at the default cadence while disconnected")
        stored = workdir / "outage.sqlite"
        build, backlog = build_backlog(
            broker, stored, now - timedelta(hours=outage_hours), outage_hours
        )
        newest = newest_per_topic(backlog)
        order = {message_id(payload): rank for rank, (_topic, payload) in enumerate(backlog)}
        for copy in ("default", "unthrottled"):
            shutil.copyfile(stored, workdir / f"outage-{copy}.sqlite")
        progress(f"outage: {len(backlog):,} queued; bare paho reference (newest first)")
        outage_reference = bare_paho(
            broker, subscriber, backlog, "bare paho publish, newest first  [reference]"
        )
        progress("outage: forwarder unthrottled")
        unthrottled = drain(
            broker,
            subscriber,
            workdir / "outage-unthrottled.sqlite",
            "forwarder, unthrottled",
            backlog_rate=UNTHROTTLED_RATE,
            newest=newest,
            order=order,
            sample_s=None,
        )
        progress(
            f"outage: forwarder at the default {DEFAULT_BACKLOG_RATE:g} msg/s ({sample_s:g} s)"
        )
        default = drain(
            broker,
            subscriber,
            workdir / "outage-default.sqlite",
            f"forwarder, default rate ({sample_s:g} s sampled)",
            backlog_rate=DEFAULT_BACKLOG_RATE,
            newest=newest,
            order=order,
            sample_s=sample_s,
        )
        drain_table(
            f"Outage: {outage_hours:g} h of 50 metrics at the default 1-minute cadence, then"
            f" reconnect ({len(newest)} topics)",
            build,
            [outage_reference, unthrottled, default],
            outage_reference,
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        print(
            f"\nmax RSS of this process over the whole run: {rss:.0f} MB; work directory "
            f"{workdir} ({'kept' if args.keep else 'removed'}); "
            f"Python {sys.version.split()[0]}; SQLite {sqlite3.sqlite_version}"
        )
    finally:
        subscriber.close()
        broker.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
