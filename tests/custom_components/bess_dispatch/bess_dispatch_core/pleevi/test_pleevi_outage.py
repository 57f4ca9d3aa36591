"""Pleevi measurements through the same outbox, link and forwarder as the protocol profile,
over a real Mosquitto: an outage with a gateway restart loses nothing and duplicates
nothing, and the newest measurement of every asset goes first."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from bess_dispatch_core.gateway.forwarder import Forwarder
from bess_dispatch_core.gateway.outbox import Outbox, OutboxPolicy
from bess_dispatch_core.link.backoff import ExponentialBackoff
from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink
from bess_dispatch_core.pleevi.measurer import PleeviMeasurer
from bess_dispatch_core.pleevi.schemas import measurement_schema
from bess_dispatch_core.pleevi.topic import PleeviTopicTemplate
from tests.plugins.mosquitto_broker import Broker

from .test_measurer import ASSETS, T0, _observe, pipeline

TIMEOUT_S = 10.0
TEMPLATE = PleeviTopicTemplate("pleevi/{site_id}/{asset_id}")


class Subscriber:
    """A persistent-session QoS 1 subscriber to ``pleevi/#``: survives broker restarts."""

    def __init__(self, broker: Broker) -> None:
        self.received: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="pleevi-subscriber", clean_session=False
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = lambda client, *_args: client.subscribe("pleevi/#", qos=1)
        self.client.on_subscribe = lambda *_args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(TIMEOUT_S)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: Any) -> None:
        with self._lock:
            self.received.append((message.topic, bytes(message.payload)))

    def wait_for(self, count: int) -> list[tuple[str, bytes]]:
        deadline = time.monotonic() + TIMEOUT_S
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # catches duplicates arriving after the expected count
        with self._lock:
            return list(self.received)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Gateway:
    """Outbox + link + forwarder as the integration wires them."""

    def __init__(self, broker: Broker, outbox_path: Path) -> None:
        self.outbox = Outbox(outbox_path, OutboxPolicy())
        self.link = MqttLink(
            BrokerSettings(host=broker.host, port=broker.port),
            backoff=ExponentialBackoff(initial=1.0, maximum=1.0, random_source=lambda: 1.0),
        )
        self.forwarder = Forwarder(self.outbox, self.link, backlog_rate=500.0)
        self.link.start()
        self.forwarder.start()

    def stop(self) -> None:
        self.forwarder.stop()
        self.link.stop()
        self.outbox.close()


@pytest.fixture
def subscriber(mosquitto_broker: Broker) -> Iterator[Subscriber]:
    sub = Subscriber(mosquitto_broker)
    yield sub
    sub.stop()


def _wait_until_disconnected(gateway: Gateway) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while gateway.link.connected:
        assert time.monotonic() < deadline, "still connected"
        time.sleep(0.02)


def test_outage_and_restart_deliver_every_pleevi_measurement_once(
    mosquitto_broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.sqlite"
    first = Gateway(mosquitto_broker, outbox)
    assert first.link.wait_connected(TIMEOUT_S)
    mosquitto_broker.stop()
    _wait_until_disconnected(first)

    # An hour of a site's life during the outage, measured every 5 minutes.
    p = pipeline()
    measurer = PleeviMeasurer(
        site_id="site-1", asset_ids=ASSETS, capacity_kwh=10, topic_template=TEMPLATE
    )
    submitted: list[tuple[str, bytes]] = []
    for step in range(13):
        at = T0 + timedelta(minutes=5 * step)
        _observe(p, at, step, 1500.0 if step < 6 else -1500.0, 40.0 + step)
        for message in measurer.measure(p, at):
            first.forwarder.submit(message.topic, message.payload)
            submitted.append((message.topic, message.payload))
    assert len(submitted) == 13 + 12 * 3  # the energy-metered assets wait one reading
    first.stop()  # Home Assistant shuts down during the outage

    mosquitto_broker.start()
    second = Gateway(mosquitto_broker, outbox)  # same outbox file
    try:
        assert second.forwarder.wait_drained(TIMEOUT_S)
        received = subscriber.wait_for(len(submitted))
    finally:
        second.stop()

    validator = jsonschema.Draft202012Validator(measurement_schema())
    keys = []
    for topic, payload in received:
        data = json.loads(payload)
        validator.validate(data)
        assert topic == f"pleevi/site-1/{data['assetId']}"
        keys.append((data["assetId"], data["timestamp"]))
    assert len(keys) == len(set(keys)), "a measurement arrived twice"
    assert sorted(received) == sorted(submitted), "a measurement was lost or changed"
    # Recent first: the first message of every asset is its newest measurement.
    newest = datetime(2026, 11, 21, 5, 0, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert {json.loads(payload)["timestamp"] for _, payload in received[:4]} == {newest}
