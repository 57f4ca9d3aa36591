"""Hostile telemetry through a real Mosquitto: refused, reported, and nothing of it kept.

A gateway (or whoever can publish on its topics) sends readings the site cannot have made:
stamped far in the future or past, counters jumping by 1e12 kWh, a SoE outside the battery
or in kW, or from a gateway the site does not have. The service (test mode: it answers every
reading) refuses each with FIELD_OUT_OF_RANGE naming the field, reports it in the status,
keeps no slot of it, and still goes stale when the real readings stop.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink
from bess_dispatch_core.protocol import (
    LifetimeTelemetry,
    PowerTelemetry,
    parse_telemetry_feedback,
)
from bess_dispatch_core.protocol.telemetry import Unit
from bess_dispatch_core.protocol.topics import (
    lifetime_topic,
    power_topic,
    telemetry_feedback_topic,
)
from optimizer.service.service import OptimizerService
from optimizer.service.site_memory import PV, SiteMemory, state_path
from optimizer.simulation.clock import SimulatedClock
from optimizer.simulation.day_run import demo_config, sample_site, wait_for
from tests.plugins.mosquitto_broker import Broker

T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
SITE, GATEWAY = "demo-site", "gw-1"
WAIT_S = 5.0


@dataclass
class Feedback:
    ok: bool
    errors: list[str]


@dataclass
class Harness:
    service: OptimizerService
    gateway: MqttLink
    clock: SimulatedClock
    feedback: queue.Queue[Feedback]
    state_dir: Path

    @property
    def state(self) -> SiteMemory:
        return self.service._sites[SITE].state

    def send(self, topic: str, payload: bytes) -> Feedback:
        """Publish as the gateway and wait for the service's answer to it."""
        assert self.gateway.publish(topic, payload).wait(WAIT_S)
        return self.feedback.get(timeout=WAIT_S)

    def counter(self, metric: str, kwh: float, at: datetime) -> Feedback:
        reading = LifetimeTelemetry.create(value=kwh, measured_at=at, now=self.clock())
        return self.send(lifetime_topic(SITE, GATEWAY, metric), reading.to_payload())

    def soe(self, kwh: float, at: datetime, unit: Unit = Unit.KWH) -> Feedback:
        reading = PowerTelemetry.create(value=kwh, measured_at=at, unit=unit, now=self.clock())
        return self.send(power_topic(SITE, GATEWAY, "battery_soe"), reading.to_payload())


@pytest.fixture
def harness(mosquitto_broker: Broker, tmp_path: Path) -> Iterator[Harness]:
    price_file = tmp_path / "prices.csv"
    price_file.write_text(f"{T0.isoformat()},20\n", encoding="utf-8")
    config = demo_config(
        host=mosquitto_broker.host,
        port=mosquitto_broker.port,
        state_dir=tmp_path / "state",
        price_file=price_file,
        sites=(sample_site(SITE, GATEWAY),),
        export_price=8.0,
        timezone="UTC",
    )
    clock = SimulatedClock(T0)
    service = OptimizerService(config, clock=clock)
    gateway = MqttLink(BrokerSettings(mosquitto_broker.host, mosquitto_broker.port))
    answers: queue.Queue[Feedback] = queue.Queue()

    def on_feedback(_topic: str, payload: bytes) -> None:
        feedback = parse_telemetry_feedback(payload).value
        assert feedback is not None
        answers.put(Feedback(feedback.status.value == "ok", [feedback.message or ""]))

    gateway.subscribe(telemetry_feedback_topic(SITE, GATEWAY), on_feedback)
    service.start()
    gateway.start()
    try:
        assert service.link.wait_connected(WAIT_S)
        assert gateway.wait_connected(WAIT_S)
        assert wait_for(lambda: gateway.publish("probe", b"").wait(WAIT_S), WAIT_S)
        yield Harness(service, gateway, clock, answers, tmp_path / "state")
    finally:
        gateway.stop()
        service.stop()


def _refused(feedback: Feedback, path: str) -> bool:
    return not feedback.ok and any(f"FIELD_OUT_OF_RANGE at {path}" in e for e in feedback.errors)


@pytest.mark.parametrize("year", [2100, 2300, 9999])
def test_a_reading_from_the_future_is_refused_and_the_site_still_goes_stale(
    harness: Harness, year: int
) -> None:
    assert harness.counter(PV, 100.0, T0 - timedelta(minutes=1)).ok
    future = datetime(year, 1, 1, tzinfo=UTC)

    answer = harness.counter(PV, 100.5, future)

    assert _refused(answer, "measured_at"), answer
    state = harness.state
    assert state.counters[PV] == (100.0, T0 - timedelta(minutes=1))
    assert len(state.slot_energy) <= 1
    assert state.last_telemetry == T0 - timedelta(minutes=1)
    status = harness.service.status(SITE)
    assert status.last_error is not None
    assert "measured_at" in status.last_error
    assert str(year) in status.last_error
    # A real reading after it still counts ...
    assert harness.counter(PV, 100.5, T0).ok
    assert state.counters[PV] == (100.5, T0)
    # ... and when the real readings stop, the site goes stale as it should.
    later = T0 + harness.service.telemetry_timeout + timedelta(minutes=1)
    harness.clock.set(later)
    harness.service.tick(later)
    stale = harness.service.status(SITE)
    assert stale.last_error is not None
    assert stale.last_error.startswith("no telemetry")
    assert not stale.connected
    harness.service.stop()
    assert state_path(harness.state_dir, SITE).stat().st_size < 50_000


def test_a_reading_from_long_ago_opens_no_slots(harness: Harness) -> None:
    assert _refused(harness.counter(PV, 1.0, datetime(1970, 1, 1, tzinfo=UTC)), "measured_at")
    assert harness.counter(PV, 5.0, T0 - timedelta(minutes=10)).ok
    assert harness.counter(PV, 5.2, T0).ok

    assert len(harness.state.slot_energy) == 1
    assert sum(e[PV] for e in harness.state.slot_energy.values()) == pytest.approx(0.2)


def test_an_impossible_counter_jump_is_refused_and_a_rebased_counter_followed(
    harness: Harness,
) -> None:
    start = T0 - timedelta(minutes=20)
    assert harness.counter(PV, 1000.0, start).ok

    answer = harness.counter(PV, 1e12, start + timedelta(minutes=5))
    assert _refused(answer, "measurement_value.value"), answer
    assert "solar_net_generation_ac rose" in (harness.service.status(SITE).last_error or "")
    # The next real reading continues from the last believed one: 4 kW for 10 minutes.
    assert harness.counter(PV, 1000.0 + 4 / 6, start + timedelta(minutes=10)).ok
    pv = sum(e.get(PV, 0.0) for e in harness.state.slot_energy.values())
    assert pv == pytest.approx(4 / 6)
    # A meter really re-based: refused once, then followed from its new value (no energy
    # for the jump itself).
    assert not harness.counter(PV, 5e6, start + timedelta(minutes=15)).ok
    assert harness.counter(PV, 5e6 + 0.5, start + timedelta(minutes=20)).ok
    assert harness.state.counters[PV] == (5e6 + 0.5, start + timedelta(minutes=20))
    assert sum(e.get(PV, 0.0) for e in harness.state.slot_energy.values()) == pytest.approx(4 / 6)


@pytest.mark.parametrize(
    ("value", "unit", "path"),
    [
        (-40.0, Unit.KWH, "measurement_value.value"),
        (1e299, Unit.KWH, "measurement_value.value"),
        (10.6, Unit.KWH, "measurement_value.value"),  # 10 kWh battery, 5 % tolerance
        (3.0, Unit.KW, "measurement_value.unit"),
    ],
)
def test_an_impossible_soe_is_refused(
    harness: Harness, value: float, unit: Unit, path: str
) -> None:
    assert harness.soe(4.0, T0 - timedelta(minutes=1)).ok

    answer = harness.soe(value, T0, unit)

    assert _refused(answer, path), answer
    assert harness.state.soe_kwh == 4.0
    assert harness.state.soe_at == T0 - timedelta(minutes=1)
    assert harness.soe(10.2, T0).ok  # within the tolerance: noise, kept
    assert harness.state.soe_kwh == 10.2


def test_readings_of_a_gateway_the_site_does_not_have_are_refused(harness: Harness) -> None:
    assert harness.soe(4.0, T0 - timedelta(minutes=1)).ok
    reading = PowerTelemetry.create(value=9.0, measured_at=T0, unit=Unit.KWH, now=T0)

    assert harness.gateway.publish(
        power_topic(SITE, "intruder", "battery_soe"), reading.to_payload()
    ).wait(WAIT_S)

    assert wait_for(lambda: "intruder" in (harness.service.status(SITE).last_error or ""))
    assert harness.state.soe_kwh == 4.0
    assert harness.feedback.empty()  # nothing is said to an unknown gateway


def test_the_state_file_stays_small_under_a_flood_of_hostile_readings(harness: Harness) -> None:
    assert harness.counter(PV, 0.0, T0 - timedelta(days=1)).ok
    for year in range(2030, 2130, 10):
        assert not harness.counter(PV, 1.0, datetime(year, 1, 1, tzinfo=UTC)).ok
    assert harness.counter(PV, 1.0, T0).ok
    harness.service.stop()

    saved = json.loads(state_path(harness.state_dir, SITE).read_text(encoding="utf-8"))
    assert len(saved["slot_energy"]) <= 49


def test_a_refusal_never_echoes_an_unbounded_gateway_id(harness: Harness) -> None:
    reading = PowerTelemetry.create(value=9.0, measured_at=T0, unit=Unit.KWH, now=T0)
    long_id = "g" * 20_000

    assert harness.gateway.publish(
        power_topic(SITE, long_id, "battery_soe"), reading.to_payload()
    ).wait(WAIT_S)

    assert wait_for(lambda: "20000 chars" in (harness.service.status(SITE).last_error or ""))
    assert len(harness.service.status(SITE).last_error or "") < 1_000
