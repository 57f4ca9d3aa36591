"""A slow solve holds up nothing but its own site (real Mosquitto).

One site's solve is held (fault injection on the planner call); meanwhile the other site
plans, the plan page and the status of the held site answer at once, its telemetry is still
taken in over the broker, and the service's connection stays up. Before, tick() held the
service lock for the whole solve: a 20 s solve froze all of that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink
from bess_dispatch_core.protocol import PowerTelemetry
from bess_dispatch_core.protocol.topics import power_topic
from optimizer.service import service as service_module
from optimizer.service.planner import SitePlan
from optimizer.service.service import OptimizerService
from optimizer.simulation.clock import SimulatedClock
from optimizer.simulation.day_run import demo_config, sample_site, wait_for
from tests.plugins.mosquitto_broker import Broker

T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
SLOW, FAST = "slow-site", "fast-site"
ANSWER_S = 1.0  # what "at once" means here; the held solve lasts until released
HELD_S = 30.0


@pytest.fixture
def service(mosquitto_broker: Broker, tmp_path: Path) -> Iterator[OptimizerService]:
    day = [T0 + timedelta(minutes=30 * slot) for slot in range(48)]
    price_file = tmp_path / "prices.csv"
    price_file.write_text("".join(f"{t.isoformat()},20\n" for t in day), encoding="utf-8")
    config = demo_config(
        host=mosquitto_broker.host,
        port=mosquitto_broker.port,
        state_dir=tmp_path / "state",
        price_file=price_file,
        sites=(sample_site(SLOW, "gw"), sample_site(FAST, "gw")),
        export_price=8.0,
        timezone="UTC",
    )
    running = OptimizerService(config, clock=SimulatedClock(T0))
    for site_id in (SLOW, FAST):
        running._sites[site_id].state.observe_soe(5.0, T0)
    running.start()
    try:
        assert running.link.wait_connected(5.0)
        yield running
    finally:
        running.stop()


def _answers_within(call: Callable[[], Any], seconds: float) -> bool:
    done = threading.Event()

    def run() -> None:
        call()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds)


def test_a_held_solve_stops_neither_the_other_site_nor_the_service(
    service: OptimizerService, mosquitto_broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_make_plan = service_module.make_plan

    def make_plan(settings: Any, *args: Any, **kwargs: Any) -> SitePlan:
        if settings.site_id == SLOW:
            release.wait(HELD_S)
        return real_make_plan(settings, *args, **kwargs)

    monkeypatch.setattr(service_module, "make_plan", make_plan)
    clock = service.clock
    assert isinstance(clock, SimulatedClock)
    gateway = MqttLink(BrokerSettings(mosquitto_broker.host, mosquitto_broker.port))
    gateway.start()
    first = threading.Thread(target=service.tick, args=(T0,), daemon=True)
    try:
        assert gateway.wait_connected(5.0)
        first.start()

        assert wait_for(lambda: service.current_plan(FAST) is not None, 10.0)
        assert service.current_plan(SLOW) is None  # still solving
        assert _answers_within(lambda: service.status(SLOW), ANSWER_S)
        assert _answers_within(lambda: service.plan(SLOW), ANSWER_S)
        assert _answers_within(lambda: service.status(FAST), ANSWER_S)
        reading = PowerTelemetry.create(value=6.5, measured_at=T0, unit="kWh", now=T0)
        assert gateway.publish(power_topic(SLOW, "gw", "battery_soe"), reading.to_payload()).wait(
            5.0
        )
        assert wait_for(lambda: service._sites[SLOW].state.soe_kwh == 6.5, 5.0)
        # The next round plans the fast site again; the held one is not started twice.
        later = T0 + timedelta(minutes=30)
        clock.set(later)
        fresh = PowerTelemetry.create(value=5.0, measured_at=later, unit="kWh", now=later)
        assert gateway.publish(power_topic(FAST, "gw", "battery_soe"), fresh.to_payload()).wait(5.0)
        assert wait_for(lambda: service._sites[FAST].state.soe_at == later, 5.0)
        second = threading.Thread(target=service.tick, args=(later,), daemon=True)
        second.start()
        assert wait_for(lambda: _made_at(service, FAST) == later, 10.0)
        assert service.link.connected
    finally:
        release.set()
        first.join(HELD_S)
        gateway.stop()
    assert service.current_plan(SLOW) is not None
    assert not first.is_alive()


def _made_at(service: OptimizerService, site_id: str) -> datetime | None:
    plan = service.current_plan(site_id)
    return None if plan is None else plan.made_at
