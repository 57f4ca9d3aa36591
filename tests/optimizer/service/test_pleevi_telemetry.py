"""Pleevi measurements from a gateway through a real Mosquitto as the service's telemetry:
the battery's SoC becomes the site's SoE, the PV's energy its PV counter, and a bad
measurement is refused naming the field."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink
from bess_dispatch_core.pleevi import PleeviMeasurement, PleeviTopicTemplate
from optimizer.service.service import OptimizerService
from optimizer.service.site_memory import PV
from optimizer.simulation.clock import SimulatedClock
from optimizer.simulation.day_run import demo_config, sample_site, wait_for
from tests.plugins.mosquitto_broker import Broker

T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
SITE, GATEWAY = "demo-site", "gw-1"
TEMPLATE = PleeviTopicTemplate("pleevi/{site_id}/{asset_id}")
WAIT_S = 5.0


@pytest.fixture
def service_and_gateway(
    mosquitto_broker: Broker, tmp_path: Path
) -> Iterator[tuple[OptimizerService, MqttLink]]:
    price_file = tmp_path / "prices.csv"
    price_file.write_text(f"{T0.isoformat()},20\n", encoding="utf-8")
    site = dataclasses.replace(sample_site(SITE, GATEWAY), pleevi_topic=TEMPLATE)
    config = demo_config(
        host=mosquitto_broker.host,
        port=mosquitto_broker.port,
        state_dir=tmp_path / "state",
        price_file=price_file,
        sites=(site,),
        export_price=8.0,
        timezone="UTC",
    )
    service = OptimizerService(config, clock=SimulatedClock(T0))
    gateway = MqttLink(BrokerSettings(mosquitto_broker.host, mosquitto_broker.port))
    service.start()
    gateway.start()
    try:
        assert service.link.wait_connected(WAIT_S)
        assert gateway.wait_connected(WAIT_S)
        assert wait_for(lambda: gateway.publish("probe", b"").wait(WAIT_S), WAIT_S)
        yield service, gateway
    finally:
        gateway.stop()
        service.stop()


def _send(gateway: MqttLink, asset: str, measurement: PleeviMeasurement | bytes) -> None:
    payload = measurement if isinstance(measurement, bytes) else measurement.to_payload()
    assert gateway.publish(TEMPLATE.build(SITE, asset), payload).wait(WAIT_S)


def test_pleevi_measurements_feed_the_sites_soe_and_pv(
    service_and_gateway: tuple[OptimizerService, MqttLink],
) -> None:
    service, gateway = service_and_gateway
    state = service._sites[SITE].state
    at = T0 - timedelta(minutes=1)
    _send(gateway, f"{SITE}-battery", PleeviMeasurement(f"{SITE}-battery", at, 1.0, -500.0, 45.0))
    _send(gateway, f"{SITE}-pv", PleeviMeasurement(f"{SITE}-pv", at, 12_500.0, 900.0))
    assert wait_for(lambda: state.soe_kwh == pytest.approx(4.5) and PV in state.counters, WAIT_S)
    assert state.counters[PV] == (12.5, at)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b'{"assetId": "demo-site-battery"}', "timestamp"),
        (
            b'{"assetId": "demo-site-battery", "timestamp": "2026-11-21T02:59:00.000Z",'
            b' "energyValue": 1, "powerValue": 0, "currentStateOfCharge": 140}',
            "currentStateOfCharge",
        ),
        (
            b'{"assetId": "someone-else", "timestamp": "2026-11-21T02:59:00.000Z",'
            b' "energyValue": 1, "powerValue": 0}',
            "assetId",
        ),
    ],
)
def test_a_bad_measurement_is_refused_naming_the_field(
    service_and_gateway: tuple[OptimizerService, MqttLink], payload: bytes, field: str
) -> None:
    service, gateway = service_and_gateway
    state = service._sites[SITE].state
    _send(gateway, f"{SITE}-battery", payload)
    assert wait_for(lambda: state.last_error is not None, WAIT_S)
    assert f": {field}" in (state.last_error or "")
    assert state.soe_kwh is None
