"""Store-and-forward through a real Mosquitto: outages, restarts, order, drops, rate."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from bess_dispatch_core.gateway.forwarder import Forwarder
from bess_dispatch_core.gateway.outbox import DropCounts, DropReason, Outbox, OutboxPolicy
from bess_dispatch_core.link.backoff import ExponentialBackoff
from bess_dispatch_core.link.mqtt_link import BrokerSettings, LinkStatus, MqttLink
from bess_dispatch_core.link.publish_handle import PublishHandle, PublishOutcome
from bess_dispatch_core.protocol import LifetimeTelemetry
from bess_dispatch_core.protocol.topics import lifetime_topic
from tests.plugins.mosquitto_broker import Broker

TIMEOUT_S = 10.0
SITE, GATEWAY = "site-1", "gw-1"
METRICS = ("meter_import_ac", "meter_export_ac", "battery_soe", "battery_charge_ac")
T0 = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Reading:
    topic: str
    payload: bytes

    @property
    def message_id(self) -> str:
        return str(json.loads(self.payload)["message_id"])


def _reading(metric: str, minute: int) -> Reading:
    at = T0 + timedelta(minutes=minute)
    message = LifetimeTelemetry.create(value=1000.0 + minute, measured_at=at, now=at)
    return Reading(lifetime_topic(SITE, GATEWAY, metric), message.to_payload())


def _an_hour_of_readings(step_minutes: int = 5) -> list[Reading]:
    """One reading per metric every ``step_minutes`` for an hour, in submission order."""
    return [_reading(m, minute) for minute in range(0, 60, step_minutes) for m in METRICS]


@dataclass
class Subscriber:
    """A persistent-session QoS 1 subscriber: survives broker restarts without losses."""

    broker: Broker
    client_id: str = "test-subscriber"
    received: list[Reading] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _subscribed: threading.Event = field(default_factory=threading.Event)
    client: mqtt.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_args: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe("dt/#", qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: Any) -> None:
        with self._lock:
            self.received.append(Reading(message.topic, bytes(message.payload)))

    def start(self) -> None:
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(TIMEOUT_S)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def snapshot(self) -> list[Reading]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = TIMEOUT_S) -> list[Reading]:
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        # A short grace period catches duplicates arriving after the expected count.
        time.sleep(0.3)
        return self.snapshot()


@dataclass
class Gateway:
    """Outbox + link + forwarder as the integration wires them."""

    broker: Broker
    outbox_path: Path
    policy: OutboxPolicy = field(default_factory=OutboxPolicy)
    backlog_rate: float = 500.0
    expire_interval: float = 60.0
    lock_timeout: float = 5.0
    drops: list[DropCounts] = field(default_factory=list)
    statuses: list[LinkStatus] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.outbox_path, self.policy, lock_timeout=self.lock_timeout)
        # Fixed 1 s retry delay: the test can act between two reconnect attempts.
        self.link = MqttLink(
            BrokerSettings(host=self.broker.host, port=self.broker.port),
            backoff=ExponentialBackoff(initial=1.0, maximum=1.0, random_source=lambda: 1.0),
        )
        self.link.add_state_listener(self.statuses.append)
        self.forwarder = Forwarder(
            self.outbox,
            self.link,
            backlog_rate=self.backlog_rate,
            expire_interval=self.expire_interval,
            on_drop=self.drops.append,
        )

    def start(self) -> None:
        self.link.start()
        self.forwarder.start()

    def stop(self) -> None:
        self.forwarder.stop()
        self.link.stop()
        self.outbox.close()


@pytest.fixture
def make_gateway(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    gateways: list[Gateway] = []

    def make(broker: Broker, **kwargs: Any) -> Gateway:
        gateway = Gateway(broker, tmp_path / "outbox.sqlite", **kwargs)
        gateways.append(gateway)
        return gateway

    yield make
    for gateway in gateways:
        gateway.stop()


@pytest.fixture
def subscriber(mosquitto_broker: Broker) -> Iterator[Subscriber]:
    sub = Subscriber(mosquitto_broker)
    sub.start()
    yield sub
    sub.stop()


def _wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _assert_newest_first(received: list[Reading], submitted: list[Reading]) -> None:
    """Latest reading of every topic first (newest first), then the rest newest first."""
    position = {r.message_id: i for i, r in enumerate(submitted)}
    order = [position[r.message_id] for r in received]
    latest: dict[str, int] = {}
    for i, reading in enumerate(submitted):
        latest[reading.topic] = i
    head = order[: len(latest)]
    assert head == sorted(latest.values(), reverse=True)
    assert order[len(latest) :] == sorted(order[len(latest) :], reverse=True)


def _assert_exactly_once(received: list[Reading], submitted: list[Reading]) -> None:
    ids = [r.message_id for r in received]
    assert len(ids) == len(set(ids)), "a message arrived twice"
    assert set(ids) == {r.message_id for r in submitted}
    # Same bytes as submitted: the envelope (message_id, sent_at) survived the outage.
    assert {r.payload for r in received} == {r.payload for r in submitted}


def test_live_messages_are_sent_and_deleted_on_puback(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(mosquitto_broker)
    gateway.start()
    assert gateway.link.wait_connected(TIMEOUT_S)
    readings = [_reading(m, 0) for m in METRICS]
    for reading in readings:
        gateway.forwarder.submit(reading.topic, reading.payload)

    assert gateway.forwarder.wait_drained(TIMEOUT_S)
    _assert_exactly_once(subscriber.wait_for(len(readings)), readings)
    stats = gateway.forwarder.stats()
    assert (stats.queued, stats.in_flight, stats.sent, stats.dropped.total) == (0, 0, 4, 0)
    assert stats.connected
    assert stats.last_sent_at is not None


def test_outage_delivers_every_reading_once_newest_first(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(mosquitto_broker)
    gateway.start()
    assert gateway.link.wait_connected(TIMEOUT_S)

    mosquitto_broker.stop()
    _wait_until(lambda: not gateway.link.connected)
    readings = _an_hour_of_readings()  # a simulated hour: 12 readings x 4 metrics
    for reading in readings:
        gateway.forwarder.submit(reading.topic, reading.payload)
    assert gateway.forwarder.stats().queued == len(readings)
    mosquitto_broker.start()

    assert gateway.forwarder.wait_drained(TIMEOUT_S)
    received = subscriber.wait_for(len(readings))
    _assert_exactly_once(received, readings)
    _assert_newest_first(received, readings)
    assert gateway.forwarder.stats().sent == len(readings)


def test_outage_across_a_gateway_restart(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    first = make_gateway(mosquitto_broker)
    first.start()
    assert first.link.wait_connected(TIMEOUT_S)
    mosquitto_broker.stop()
    _wait_until(lambda: not first.link.connected)
    readings = _an_hour_of_readings()
    for reading in readings:
        first.forwarder.submit(reading.topic, reading.payload)
    first.stop()  # Home Assistant shuts down during the outage

    mosquitto_broker.start()
    second = make_gateway(mosquitto_broker)  # same outbox file
    assert second.forwarder.stats().queued == len(readings)
    second.start()

    assert second.forwarder.wait_drained(TIMEOUT_S)
    received = subscriber.wait_for(len(readings))
    _assert_exactly_once(received, readings)
    _assert_newest_first(received, readings)


def test_drops_during_an_outage_are_reported_and_the_newest_kept(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(mosquitto_broker, policy=OutboxPolicy(max_messages=20))
    gateway.start()
    assert gateway.link.wait_connected(TIMEOUT_S)
    mosquitto_broker.stop()
    _wait_until(lambda: not gateway.link.connected)
    readings = _an_hour_of_readings()
    for reading in readings:
        gateway.forwarder.submit(reading.topic, reading.payload)

    dropped = len(readings) - 20
    assert sum(d.total for d in gateway.drops) == dropped
    assert gateway.forwarder.stats().dropped.by_reason == {DropReason.QUEUE_FULL: dropped}
    mosquitto_broker.start()
    assert gateway.forwarder.wait_drained(TIMEOUT_S)
    _assert_exactly_once(subscriber.wait_for(20), readings[-20:])


def test_backlog_is_sent_at_the_bounded_rate(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    rate = 50.0
    gateway = make_gateway(mosquitto_broker, backlog_rate=rate)
    mosquitto_broker.stop()
    readings = _an_hour_of_readings(step_minutes=2)  # 120 messages
    for reading in readings:
        gateway.forwarder.submit(reading.topic, reading.payload)
    mosquitto_broker.start()
    gateway.start()
    assert gateway.link.wait_connected(TIMEOUT_S)
    started = time.monotonic()

    assert gateway.forwarder.wait_drained(TIMEOUT_S)
    elapsed = time.monotonic() - started
    # 4 latest-per-topic at once, then 116 at 50/s with at most one second of burst.
    assert elapsed >= (len(readings) - len(METRICS) - rate) / rate * 0.9
    assert elapsed < (len(readings) / rate) * 2 + 1
    _assert_exactly_once(subscriber.wait_for(len(readings)), readings)


def test_broker_stopping_mid_stream_loses_nothing(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(mosquitto_broker)
    gateway.start()
    assert gateway.link.wait_connected(TIMEOUT_S)
    readings = _an_hour_of_readings(step_minutes=1)  # 240 messages
    for reading in readings[:120]:
        gateway.forwarder.submit(reading.topic, reading.payload)
    mosquitto_broker.stop()  # some publishes are in flight, unacknowledged
    for reading in readings[120:]:
        gateway.forwarder.submit(reading.topic, reading.payload)
    mosquitto_broker.start()

    assert gateway.forwarder.wait_drained(TIMEOUT_S)
    received = subscriber.wait_for(len(readings))
    # At least once: a publish whose PUBACK was lost with the connection is sent again
    # with the same bytes, so receivers de-duplicate it by message_id.
    assert {r.message_id for r in received} == {r.message_id for r in readings}
    assert {r.payload for r in received} == {r.payload for r in readings}


class _RefusingLink:
    """A connected link whose publishes all fail (broker refuses them)."""

    connected = True

    def __init__(self) -> None:
        self.attempts = 0

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> PublishHandle:
        self.attempts += 1
        handle = PublishHandle(topic, qos)
        handle.complete(PublishOutcome.FAILED, "refused")
        return handle

    def add_state_listener(self, listener: Callable[[LinkStatus], None]) -> Callable[[], None]:
        return lambda: None


def test_unacknowledged_messages_stay_stored(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        link = _RefusingLink()
        forwarder = Forwarder(outbox, link, backlog_rate=100.0)
        forwarder.submit("t", b"x")
        forwarder.start()
        try:
            _wait_until(lambda: link.attempts >= 3)
        finally:
            forwarder.stop()
        stats = forwarder.stats()
        assert (stats.queued, stats.sent, stats.in_flight) == (1, 0, 0)
        assert stats.failed_publishes >= 3


def test_bad_forwarder_parameters_name_the_field(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        with pytest.raises(ValueError, match="backlog_rate"):
            Forwarder(outbox, _RefusingLink(), backlog_rate=0)
        with pytest.raises(ValueError, match="max_in_flight"):
            Forwarder(outbox, _RefusingLink(), max_in_flight=0)


# ---- SQLite errors: the thread survives, losses are counted and reported -----------------


class FileLock:
    """Another process's write lock on the outbox file, as the probe held it (sqlite3 CLI)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self._db.execute("COMMIT")
        self._db.close()


def test_a_locked_outbox_during_expiry_does_not_stop_forwarding(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    """The probe: expire() raised "database is locked" and killed the forwarder thread."""
    gateway = make_gateway(mosquitto_broker, expire_interval=0.05, lock_timeout=0.1)
    gateway.start()
    assert gateway.link.wait_connected(TIMEOUT_S)
    lock = FileLock(gateway.outbox_path)
    time.sleep(0.6)  # several expiry rounds fail on the lock
    lock.release()
    readings = [_reading(m, 0) for m in METRICS]
    for reading in readings:
        assert gateway.forwarder.submit(reading.topic, reading.payload) is not None
    assert gateway.forwarder.wait_drained(TIMEOUT_S)
    _assert_exactly_once(subscriber.wait_for(len(readings)), readings)


def test_a_short_lock_is_waited_out(
    mosquitto_broker: Broker, make_gateway: Callable[..., Gateway]
) -> None:
    """The retry covers a lock a little longer than SQLite's own wait: nothing is lost."""
    gateway = make_gateway(mosquitto_broker, lock_timeout=0.2)
    lock = FileLock(gateway.outbox_path)
    threading.Timer(0.3, lock.release).start()
    reading = _reading(METRICS[0], 0)
    assert gateway.forwarder.submit(reading.topic, reading.payload) is not None
    assert (len(gateway.outbox), gateway.outbox.drop_totals().total, gateway.drops) == (1, 0, [])


def test_messages_the_outbox_cannot_store_are_counted_and_reported(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    """The probe: a 7 s lock lost 66 of 385 messages with no drop count and no alert."""
    gateway = make_gateway(mosquitto_broker, lock_timeout=0.05)
    gateway.start()
    assert gateway.link.wait_connected(TIMEOUT_S)
    lock = FileLock(gateway.outbox_path)
    lost = [_reading(m, 0) for m in METRICS[:3]]
    for reading in lost:
        assert gateway.forwarder.submit(reading.topic, reading.payload) is None
    # Counted at once (the dropped-messages sensor), reported when storing works again.
    assert gateway.forwarder.stats().dropped.by_reason == {DropReason.STORAGE_ERROR: 3}
    assert gateway.drops == []
    lock.release()
    kept = _reading(METRICS[3], 5)
    assert gateway.forwarder.submit(kept.topic, kept.payload) is not None
    assert gateway.drops == [DropCounts({DropReason.STORAGE_ERROR: 3})]
    assert gateway.forwarder.wait_drained(TIMEOUT_S)
    _assert_exactly_once(subscriber.wait_for(1), [kept])
    # The count is in the file too: it survives a restart.
    gateway.stop()
    with Outbox(gateway.outbox_path) as reopened:
        assert reopened.drop_totals().by_reason == {DropReason.STORAGE_ERROR: 3}


def test_a_batch_is_sent_once_each_and_a_lost_batch_counted_per_message(
    mosquitto_broker: Broker, subscriber: Subscriber, make_gateway: Callable[..., Gateway]
) -> None:
    """A telemetry tick's messages go in one transaction; a failed one loses each, counted."""
    gateway = make_gateway(mosquitto_broker, lock_timeout=0.05)
    gateway.start()
    assert gateway.link.wait_connected(TIMEOUT_S)
    lock = FileLock(gateway.outbox_path)
    lost = [_reading(m, 0) for m in METRICS]
    assert gateway.forwarder.submit_all([(r.topic, r.payload, 1) for r in lost]) == []
    assert gateway.forwarder.stats().dropped.by_reason == {DropReason.STORAGE_ERROR: 4}
    lock.release()
    batch = [_reading(m, 5) for m in METRICS]
    stored = gateway.forwarder.submit_all([(r.topic, r.payload, 1) for r in batch])
    assert [m.payload for m in stored] == [r.payload for r in batch]
    assert gateway.drops == [DropCounts({DropReason.STORAGE_ERROR: 4})]
    assert gateway.forwarder.wait_drained(TIMEOUT_S)
    _assert_exactly_once(subscriber.wait_for(len(batch)), batch)
