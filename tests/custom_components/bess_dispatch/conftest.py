"""Fixtures for tests that run the integration inside a real Home Assistant.

The broker is a real Mosquitto (tests/plugins/mosquitto_broker.py); ``OptimizerClient``
is a real paho-mqtt client playing the optimizer's side of the protocol.
"""

import asyncio
import json
import queue
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from homeassistant.core import HomeAssistant
from paho.mqtt.enums import CallbackAPIVersion
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bess_dispatch.bess_dispatch_core.protocol.limits import MAX_PACKET_BYTES
from custom_components.bess_dispatch.bess_dispatch_core.protocol.metrics import UseCase
from custom_components.bess_dispatch.const import DOMAIN
from custom_components.bess_dispatch.source_mapping import mappable_metrics
from tests.plugins.mosquitto_broker import Broker, MakeMosquittoBroker

SITE = "site-1"
GATEWAY = "gw-1"
SOE_SENSOR = "sensor.battery_soc"
SITE_DATA: dict[str, Any] = {
    "site_id": SITE,
    "gateway_id": GATEWAY,
    "use_case": "ac_link",
    "has_load": True,
}
BATTERY_DATA: dict[str, Any] = {
    "usable_kwh": 10.0,
    "max_charge_kw": 5.0,
    "max_discharge_kw": 5.0,
    "soe_min_pct": 10.0,
    "soe_max_pct": 90.0,
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/bess_dispatch in every test here."""


@pytest.fixture(autouse=True)
def config_dir_per_test(hass: HomeAssistant, tmp_path: Path) -> None:
    """The outbox is a real SQLite file under .storage: keep it out of the shared test config."""
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "configuration.yaml").write_text("")  # integrations like mqtt read it


def add_source_sensors(
    hass: HomeAssistant,
    use_case: str = "ac_link",
    has_load: bool = True,
    at: datetime | None = None,
) -> dict[str, str]:
    """A lifetime-energy sensor for every required metric; the sources step's answer."""
    required, _optional = mappable_metrics(UseCase(use_case), has_load)
    mapping = {}
    for metric in required:
        if metric.name == "battery_soe":
            set_soc(hass, 50, at)
            mapping[metric.name] = SOE_SENSOR
            continue
        entity_id = f"sensor.{metric.name}"
        hass.states.async_set(
            entity_id,
            "1000.0",
            {
                "unit_of_measurement": "kWh",
                "device_class": "energy",
                "state_class": "total_increasing",
            },
            timestamp=None if at is None else at.timestamp(),
        )
        mapping[metric.name] = entity_id
    return mapping


def broker_data(broker: Broker) -> dict[str, Any]:
    return {
        "host": broker.host,
        "port": broker.port,
        "username": None,
        "password": None,
        "tls": False,
        "ca_file": None,
        "client_cert": None,
        "client_key": None,
        "broker_type": "custom",
    }


SOURCES = {
    metric.name: SOE_SENSOR if metric.name == "battery_soe" else f"sensor.{metric.name}"
    for metric in mappable_metrics(UseCase.AC_LINK, True)[0]
}


def entry_data(broker: Broker) -> dict[str, Any]:
    return (
        SITE_DATA
        | BATTERY_DATA
        | {"sources": SOURCES, "source_type": "entities"}
        | broker_data(broker)
    )


def set_soc(hass: HomeAssistant, percent: float, at: datetime | None = None) -> None:
    hass.states.async_set(
        SOE_SENSOR,
        str(percent),
        {"unit_of_measurement": "%"},
        timestamp=None if at is None else at.timestamp(),
    )


async def setup_site(
    hass: HomeAssistant,
    broker: Broker,
    options: dict[str, Any] | None = None,
    readings_at: datetime | None = None,
) -> MockConfigEntry:
    """A loaded entry connected to ``broker``, SoC at 50 % (readings taken at ``readings_at``)."""
    set_soc(hass, 50, readings_at)
    add_source_sensors(hass, at=readings_at)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{SITE} / {GATEWAY}",
        unique_id=f"{SITE}/{GATEWAY}",
        data=entry_data(broker),
        options=options or {},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


class OptimizerClient:
    """The optimizer's side: publishes commands, collects what the gateway sends."""

    def __init__(self, broker: Broker) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-optimizer")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("#", qos=1)
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(5), "optimizer test client did not subscribe"

    def publish(self, topic: str, payload: bytes | str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    async def next_on(self, topic: str, within: float = 5.0) -> dict[str, Any]:
        """The next message on ``topic`` (others are skipped), decoded.

        Polls without blocking: the event loop must keep running for the gateway to answer.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            try:
                received_topic, payload = self.messages.get_nowait()
            except queue.Empty:
                assert loop.time() < deadline, f"nothing on {topic} within {within} s"
                await asyncio.sleep(0.01)
                continue
            if received_topic == topic:
                decoded: dict[str, Any] = json.loads(payload)
                return decoded

    def received(self) -> list[tuple[str, bytes]]:
        """Everything that arrived so far (and not taken by next_on)."""
        messages = []
        while not self.messages.empty():
            messages.append(self.messages.get_nowait())
        return messages

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def optimizer(mosquitto_broker: Broker) -> Iterator[OptimizerClient]:
    client = OptimizerClient(mosquitto_broker)
    yield client
    client.close()


@pytest.fixture
def limited_broker(make_mosquitto_broker: MakeMosquittoBroker) -> Broker:
    """A broker with the add-on's max_packet_size: an oversize packet drops its sender."""
    return make_mosquitto_broker(max_packet_size=MAX_PACKET_BYTES)


@pytest.fixture
def limited_optimizer(limited_broker: Broker) -> Iterator[OptimizerClient]:
    client = OptimizerClient(limited_broker)
    yield client
    client.close()
