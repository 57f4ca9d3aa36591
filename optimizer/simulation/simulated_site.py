"""A simulated site over MQTT, run by the same pure gateway code as the HA integration.

Commands go through :class:`Dispatcher` (schedule book, validation, responses) and its
control law; telemetry through :class:`TelemetryPipeline` (lifetime counters, windows,
cadence). Only the battery, PV and load are simulated: :func:`optimizer.physics.step` with
the gateway's decision as the action (:func:`optimizer.gateway_execution.executed_action`), in
sub-steps of the caller's choosing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bess_dispatch_core.gateway.control_law import HardLimits, SiteState
from bess_dispatch_core.gateway.dispatcher import Dispatcher
from bess_dispatch_core.gateway.energy_counter import MeterSemantics
from bess_dispatch_core.gateway.metric_source import MetricSource, SourceQuantity
from bess_dispatch_core.gateway.telemetry_pipeline import TelemetryPipeline
from bess_dispatch_core.link.backoff import ExponentialBackoff
from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink
from bess_dispatch_core.protocol import (
    ControlMode,
    Priority,
    command_response_topic,
    command_topic,
    parse_command,
    parse_telemetry_feedback,
    telemetry_feedback_topic,
)
from bess_dispatch_core.units import soe_from_percent
from optimizer.gateway_execution import executed_action
from optimizer.physics import step
from optimizer.service.planner import TOPOLOGY, battery_of
from optimizer.service.telemetry_guard import CHARGE, DISCHARGE, EXPORT, IMPORT, PV, SOE
from optimizer.settings.site import GRID_CONNECTION_KW, SiteSettings
from optimizer.site import Grid

from .sample_profiles import DayProfiles

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Received:
    """A command the gateway got and what it answered."""

    at: datetime
    priority: Priority | None
    command_id: str | None
    accepted: bool
    errors: str


@dataclass(slots=True)
class Executed:
    """One simulated sub-step."""

    start: datetime
    hours: float
    mode: ControlMode
    source: str
    battery_kw: float
    grid_kw: float
    pv_kw: float
    load_kw: float
    price: float
    soe_end_kwh: float


@dataclass(slots=True)
class Meters:
    lifetime_kwh: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys((PV, IMPORT, EXPORT, CHARGE, DISCHARGE), 0.0)
    )


class SimulatedSite:
    """Battery + PV + load + gateway. ``advance(now)`` simulates up to ``now``."""

    def __init__(
        self,
        settings: SiteSettings,
        broker: BrokerSettings,
        profiles: DayProfiles,
        *,
        soe_kwh: float,
        start: datetime,
        cadence: timedelta = timedelta(minutes=5),
    ) -> None:
        self.settings = settings
        self.profiles = profiles
        capacity = settings.battery_capacity_kwh
        self.limits = HardLimits(
            soe_min_kwh=soe_from_percent(settings.min_soe_percent, capacity),
            soe_max_kwh=soe_from_percent(settings.max_soe_percent, capacity),
            max_charge_kw=settings.max_charge_kw,
            max_discharge_kw=settings.max_discharge_kw,
        )
        self.dispatcher = Dispatcher(self.limits)
        kwh = "kWh"
        sources = [
            MetricSource(
                name, SourceQuantity.ENERGY, kwh, semantics=MeterSemantics.TOTAL_INCREASING
            )
            for name in (PV, IMPORT, EXPORT, CHARGE, DISCHARGE)
        ]
        sources.append(MetricSource(SOE, SourceQuantity.ENERGY_STATE, kwh))
        self.pipeline = TelemetryPipeline(
            site_id=settings.site_id,
            gateway_id=settings.gateway_id,
            sources=sources,
            capacity_kwh=capacity,
            window=timedelta(minutes=30),
            cadence=cadence,
        )
        self.link = MqttLink(
            broker,
            backoff=ExponentialBackoff(initial=0.2, maximum=2.0),
            name=f"simulated-gateway-{settings.site_id}",
        )
        self.link.subscribe(command_topic(settings.site_id), self._on_command)
        feedback = telemetry_feedback_topic(settings.site_id, settings.gateway_id)
        self.link.subscribe(feedback, self._on_feedback)
        self.feedback_ok = 0
        self.feedback_errors = 0
        self._lock = threading.Lock()
        self.now = start
        self.soe_kwh = soe_kwh
        self.meters = Meters()
        self.received: list[Received] = []
        self.executed: list[Executed] = []
        self.telemetry_enabled = True
        self.sent_telemetry = 0

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()

    def _on_feedback(self, _topic: str, payload: bytes) -> None:
        result = parse_telemetry_feedback(payload)
        with self._lock:
            if result.value is not None and result.value.status.value == "ok":
                self.feedback_ok += 1
            else:
                self.feedback_errors += 1

    def _on_command(self, _topic: str, payload: bytes) -> None:
        with self._lock:
            now = self.now
            response = self.dispatcher.receive(payload, now=now)
            parsed = parse_command(payload, now=now)
            priority = None if parsed.value is None else parsed.value.priority
            self.received.append(
                Received(
                    now,
                    priority,
                    response.command_id,
                    response.status.value == "accepted",
                    "; ".join(str(e) for e in response.errors),
                )
            )
        self.link.publish(command_response_topic(self.settings.site_id), response.to_payload())

    def advance(self, now: datetime, substep: timedelta = timedelta(minutes=5)) -> None:
        """Simulate from the last call to ``now``, then send the telemetry that is due."""
        while self.now < now:
            end = min(self.now + substep, now)
            with self._lock:
                self._simulate(self.now, end)
                self.now = end
        self._telemetry(now)

    def _simulate(self, start: datetime, end: datetime) -> None:
        index = self.profiles.index(start)
        pv, load = float(self.profiles.pv_kw[index]), float(self.profiles.load_kw[index])
        price = float(self.profiles.import_price[index])
        state = self.dispatcher.evaluate(start, SiteState(self.soe_kwh, pv, load))
        decision = state.decision
        hours = (end - start).total_seconds() / 3600
        topology = TOPOLOGY[self.settings.use_case]
        flows = step(
            topology,
            battery_of(self.settings, self.soe_kwh, 0.0),
            Grid(
                GRID_CONNECTION_KW,
                GRID_CONNECTION_KW,
                inverter_max_kw=max(self.settings.max_charge_kw, self.settings.max_discharge_kw),
            ),
            soe_kwh=self.soe_kwh,
            pv_kw=pv,
            load_kw=load,
            action=executed_action(decision),
            slot_hours=hours,
        )
        meters = self.meters.lifetime_kwh
        meters[PV] += flows.pv_used_kw * hours
        meters[IMPORT] += flows.import_kw * hours
        meters[EXPORT] += flows.export_kw * hours
        meters[CHARGE] += flows.charge_kw * hours
        meters[DISCHARGE] += flows.discharge_kw * hours
        self.soe_kwh = flows.soe_end_kwh
        self.executed.append(
            Executed(
                start,
                hours,
                decision.mode,
                decision.source.value,
                flows.charge_kw - flows.discharge_kw,
                flows.import_kw - flows.export_kw,
                flows.pv_used_kw,
                load,
                price,
                self.soe_kwh,
            )
        )

    def _telemetry(self, now: datetime) -> None:
        for name, value in self.meters.lifetime_kwh.items():
            self.pipeline.observe(name, value, now)
        self.pipeline.observe(SOE, self.soe_kwh, now)
        messages = self.pipeline.due(now)
        if not self.telemetry_enabled or not self.link.connected:
            return  # lost, as on a real outage without the outbox: counters carry the energy
        for message in messages:
            self.link.publish(message.topic, message.payload)
            self.sent_telemetry += 1

    def energy_cost(self) -> float:
        """Imports at the import price minus exports at the export price, so far."""
        total = 0.0
        for item in self.executed:
            imported, exported = max(item.grid_kw, 0.0), max(-item.grid_kw, 0.0)
            total += item.hours * (imported * item.price - exported * self.profiles.export_price)
        return total
