"""One site's telemetry inside Home Assistant: sensors in, dt/ messages out.

Glue only. The pure pipeline turns readings into protocol messages at each metric's
cadence (with the Pleevi profile, each asset's Pleevi measurement instead, built from the
same counters); every message goes through the persisted outbox (SQLite under .storage),
which the forwarder drains to the broker, newest first after an outage. Alerts and the
optimizer's TelemetryFeedback are handled here too.
"""

import logging
import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfEnergy, UnitOfPower
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .bess_dispatch_core.echonet.client import EchonetClient
from .bess_dispatch_core.echonet.errors import EchonetTransportError
from .bess_dispatch_core.echonet.source import EchonetPoller
from .bess_dispatch_core.echonet.source import metric_sources as echonet_metric_sources
from .bess_dispatch_core.gateway.alerts import AlertTracker, unavailable_source
from .bess_dispatch_core.gateway.energy_counter import MeterSemantics
from .bess_dispatch_core.gateway.feedback import FeedbackCounter
from .bess_dispatch_core.gateway.forwarder import Forwarder, ForwarderStats
from .bess_dispatch_core.gateway.metric_source import MetricSource, SourceQuantity
from .bess_dispatch_core.gateway.modbus_source import SunSpecPoller, metric_sources
from .bess_dispatch_core.gateway.outbox import DropCounts, Outbox
from .bess_dispatch_core.gateway.outbox_file import open_outbox, outbox_files
from .bess_dispatch_core.gateway.outgoing_message import OutgoingMessage
from .bess_dispatch_core.gateway.telemetry_pipeline import TelemetryPipeline
from .bess_dispatch_core.pleevi.measurer import PleeviMeasurer
from .bess_dispatch_core.protocol.metrics import BATTERY_ENERGY_REMAINING, BATTERY_SOE
from .bess_dispatch_core.protocol.topics import telemetry_feedback_topic
from .bess_dispatch_core.sunspec.modbus_link import ModbusLink
from .broker_link import BrokerLink
from .const import DOMAIN
from .echonet_setup import EchonetSourceSettings, async_acquire_client, release_client
from .update_listeners import UpdateListeners

_LOGGER = logging.getLogger(__name__)

STORE_VERSION = 1
# Alerts about sources and the backlog are checked this often (and on every send).
HOUSEKEEPING_INTERVAL = timedelta(seconds=30)

_KWH: dict[str, float] = {
    UnitOfEnergy.WATT_HOUR: 0.001,
    UnitOfEnergy.KILO_WATT_HOUR: 1.0,
    UnitOfEnergy.MEGA_WATT_HOUR: 1000.0,
}
_KW: dict[str, float] = {UnitOfPower.WATT: 0.001, UnitOfPower.KILO_WATT: 1.0}


def telemetry_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry_id}.telemetry")


def outbox_path(hass: HomeAssistant, entry_id: str) -> Path:
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.outbox.sqlite"))


def remove_outbox(hass: HomeAssistant, entry_id: str) -> None:
    """Blocking: a removed site's queued telemetry goes with it (set-aside files too)."""
    for candidate in outbox_files(outbox_path(hass, entry_id)):
        candidate.unlink(missing_ok=True)


def _unit(hass: HomeAssistant, entity_id: str) -> str | None:
    """The unit now, or the one the entity registry remembers while the entity is away."""
    state = hass.states.get(entity_id)
    if state is not None and state.attributes.get("unit_of_measurement"):
        return str(state.attributes["unit_of_measurement"])
    entry = er.async_get(hass).async_get(entity_id)
    return None if entry is None else entry.unit_of_measurement


def _quantity(metric: str, unit: str | None) -> SourceQuantity:
    if metric == BATTERY_SOE:
        return SourceQuantity.SOC_PERCENT if unit == "%" else SourceQuantity.ENERGY_STATE
    if metric == BATTERY_ENERGY_REMAINING:
        return SourceQuantity.ENERGY_STATE
    return SourceQuantity.POWER if unit in _KW else SourceQuantity.ENERGY


def _canonical(quantity: SourceQuantity, state: State | None) -> float | None:
    """The reading in kWh (energy), kW (power) or % (state of charge); None = unavailable.

    Converting here keeps a user's change of display unit (Wh -> kWh) from looking like a
    meter jump to the counters.
    """
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    unit = state.attributes.get("unit_of_measurement")
    if quantity is SourceQuantity.SOC_PERCENT:
        return value if unit == "%" else None
    factor = (_KW if quantity is SourceQuantity.POWER else _KWH).get(str(unit))
    return None if factor is None else value * factor


class Publishable(Protocol):
    """A protocol message or a Pleevi measurement: what the outbox stores and sends."""

    @property
    def topic(self) -> str: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def qos(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ModbusSourceSettings:
    """A SunSpec device whose readings feed the metrics (instead of HA sensors)."""

    host: str
    port: int
    unit_id: int
    interval_s: float
    metrics: Mapping[str, str]  # protocol metric -> SunSpec reading


class SiteTelemetry(UpdateListeners):
    """Pipeline + outbox + forwarder + alerts + feedback for one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        entry_id: str,
        site_id: str,
        gateway_id: str,
        link: BrokerLink,
        sources: Mapping[str, str],
        usable_kwh: float,
        soe_min_kwh: float,
        soe_max_kwh: float,
        interval: timedelta = timedelta(minutes=1),
        window: timedelta = timedelta(minutes=5),
        modbus: ModbusSourceSettings | None = None,
        echonet: EchonetSourceSettings | None = None,
        pleevi: PleeviMeasurer | None = None,
    ) -> None:
        super().__init__()
        # The Pleevi profile: measurements per asset instead of the protocol's telemetry,
        # from the same counters, when the protocol's cadence falls due.
        self.pleevi = pleevi
        self.hass = hass
        self.entry_id = entry_id
        self.site_id = site_id
        self.gateway_id = gateway_id
        self.link = link
        self.usable_kwh = usable_kwh
        self._on_soe_change: Callable[[], object] | None = None
        # metric -> entity (HA sensors), or metric -> reading of a SunSpec device.
        device = modbus is not None or echonet is not None
        self.entities: dict[str, str] = {} if device else dict(sources)
        self.modbus = modbus
        self.poller: SunSpecPoller | None = None
        self.echonet = echonet
        self.echonet_poller: EchonetPoller | None = None
        self._echonet_client: EchonetClient | None = None
        self.quantities: dict[str, SourceQuantity] = {}
        pipeline_sources = []
        if modbus is not None:
            pipeline_sources = metric_sources(modbus.metrics)
        elif echonet is not None:
            pipeline_sources = echonet_metric_sources(echonet.metrics)
        if device:
            self.quantities = {source.metric: source.quantity for source in pipeline_sources}
        for metric, entity_id in self.entities.items():
            quantity = _quantity(metric, _unit(hass, entity_id))
            self.quantities[metric] = quantity
            pipeline_sources.append(self._source(metric, quantity, entity_id))
        measured = {source.metric for source in pipeline_sources}
        self.nameplate_remaining = BATTERY_ENERGY_REMAINING not in measured
        if self.nameplate_remaining:
            self.quantities[BATTERY_ENERGY_REMAINING] = SourceQuantity.ENERGY_STATE
            pipeline_sources.append(
                MetricSource(BATTERY_ENERGY_REMAINING, SourceQuantity.ENERGY_STATE, "kWh")
            )
        self.interval = interval
        self.window = window
        self._pipeline_options: dict[str, Any] = {
            "site_id": site_id,
            "gateway_id": gateway_id,
            "sources": pipeline_sources,
            "capacity_kwh": usable_kwh,
            "cadence": interval,
            "window": window,
        }
        self.pipeline = TelemetryPipeline(**self._pipeline_options)
        self.alerts = AlertTracker(
            site_id=site_id, gateway_id=gateway_id, soe_min_kwh=soe_min_kwh, soe_max_kwh=soe_max_kwh
        )
        self.feedback = FeedbackCounter()
        self.store = telemetry_store(hass, entry_id)
        self.outbox: Outbox | None = None
        self.forwarder: Forwarder | None = None
        self.last_sent: datetime | None = None
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._timer: CALLBACK_TYPE | None = None

    def _source(self, metric: str, quantity: SourceQuantity, entity_id: str) -> MetricSource:
        unit = {SourceQuantity.POWER: "kW", SourceQuantity.SOC_PERCENT: "%"}.get(quantity, "kWh")
        semantics = None
        if quantity is SourceQuantity.ENERGY:
            state = self.hass.states.get(entity_id)
            state_class = None if state is None else state.attributes.get("state_class")
            semantics = (
                MeterSemantics.TOTAL if state_class == "total" else MeterSemantics.TOTAL_INCREASING
            )
        return MetricSource(metric, quantity, unit, semantics)

    def set_soe_listener(self, listener: Callable[[], object]) -> None:
        """Called after every SoE reading (the control law re-evaluates on each)."""
        self._on_soe_change = listener

    # --- life cycle ------------------------------------------------------------------------
    async def async_start(self) -> None:
        stored = await self.store.async_load()
        if stored is not None:
            try:
                self.pipeline = TelemetryPipeline.from_dict(
                    stored.get("pipeline", {}), **self._pipeline_options
                )
                self.alerts.restore(stored.get("alerts", {}))
            except (ValueError, KeyError, TypeError) as err:
                _LOGGER.warning(
                    "Stored telemetry state for %s is unreadable: %s", self.site_id, err
                )
        path = outbox_path(self.hass, self.entry_id)
        try:
            opened = await self.hass.async_add_executor_job(
                lambda: open_outbox(path, now=dt_util.utcnow())
            )
        except sqlite3.OperationalError as err:  # locked or an I/O error: not damaged
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="outbox_busy",
                translation_placeholders={"error": str(err)},
            ) from err
        self.outbox = opened.outbox
        if self.echonet is not None:
            try:
                self._echonet_client = await async_acquire_client(self.hass, self.echonet.interface)
            except EchonetTransportError as err:
                await self.hass.async_add_executor_job(self.outbox.close)
                self.outbox = None
                raise ConfigEntryNotReady(
                    translation_domain=DOMAIN,
                    translation_key="echonet_unavailable",
                    translation_placeholders={"error": str(err)},
                ) from err
        self.forwarder = Forwarder(
            self.outbox,
            self.link,
            name=f"bess-dispatch-{self.site_id}-fwd",
            on_drop=self._dropped_from_thread,
        )
        self.forwarder.start()
        self.link.subscribe(
            telemetry_feedback_topic(self.site_id, self.gateway_id), self._feedback_from_link
        )
        self._unsubscribe.append(
            async_track_state_change_event(
                self.hass, list(self.entities.values()), self._state_changed
            )
        )
        self._unsubscribe.append(
            async_track_time_interval(self.hass, self._housekeeping, HOUSEKEEPING_INTERVAL)
        )
        if self.modbus is not None:
            self.poller = SunSpecPoller(
                ModbusLink(self.modbus.host, self.modbus.port, self.modbus.unit_id),
                metrics=self.modbus.metrics,
                interval_s=self.modbus.interval_s,
                on_reading=self._modbus_reading,
                on_availability=self._modbus_availability,
                clock=dt_util.utcnow,
            )
            await self.poller.start()
        if self.echonet is not None and self._echonet_client is not None:
            self.echonet_poller = EchonetPoller(
                self._echonet_client,
                self.echonet.host,
                metrics=self.echonet.metrics,
                interval_s=self.echonet.interval_s,
                on_reading=self._modbus_reading,
                on_availability=self._echonet_availability,
                clock=dt_util.utcnow,
            )
            await self.echonet_poller.start()
        now = dt_util.utcnow()
        for metric, entity_id in self.entities.items():
            state = self.hass.states.get(entity_id)
            # A reading is as old as its state: that is when the meter showed it.
            self._observe(metric, state, now if state is None else state.last_updated)
        self._tick(now)
        if opened.set_aside is not None:
            self._outbox_set_aside(opened.set_aside, opened.error or "", now)

    @callback
    def _outbox_set_aside(self, set_aside: Path, error: str, now: datetime) -> None:
        """An unreadable outbox was replaced: say so in the log, as a repair and an alert."""
        _LOGGER.error(
            "Site %s: the telemetry outbox was unreadable (%s); set aside as %s, started anew",
            self.site_id,
            error,
            set_aside,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"outbox_set_aside_{self.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="outbox_set_aside",
            translation_placeholders={"file": str(set_aside), "error": error[:200]},
        )
        self._send_and_notify(self.alerts.outbox_set_aside(set_aside.name, error, now))

    async def async_stop(self) -> None:
        """Stop producing and sending; the outbox stays open until :meth:`async_close`."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._timer is not None:
            self._timer()
            self._timer = None
        if self.poller is not None:
            await self.poller.stop()
        if self.echonet_poller is not None:
            await self.echonet_poller.stop()
        if self._echonet_client is not None:
            release_client(self.hass, self._echonet_client)
            self._echonet_client = None
        if self.forwarder is not None:
            await self.hass.async_add_executor_job(self.forwarder.stop)

    async def async_close(self) -> None:
        """After the link stopped: acknowledgements until then still deleted messages."""
        if self.outbox is not None:
            await self.hass.async_add_executor_job(self.outbox.close)
            self.outbox = None
        await self.store.async_save(self._stored())

    def _stored(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline.to_dict(), "alerts": self.alerts.to_dict()}

    # --- readings ------------------------------------------------------------------------
    @callback
    def _state_changed(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        state = event.data["new_state"]
        at = dt_util.utcnow() if state is None else state.last_updated
        metrics = [metric for metric, mapped in self.entities.items() if mapped == entity_id]
        for metric in metrics:
            self._observe(metric, state, at)
        self._tick(dt_util.utcnow())
        if BATTERY_SOE in metrics and self._on_soe_change is not None:
            # Control re-evaluates on every SoE update, with this very reading.
            self._on_soe_change()

    def _observe(self, metric: str, state: State | None, at: datetime) -> None:
        value = _canonical(self.quantities[metric], state)
        try:
            self.pipeline.observe(metric, value, at)
        except ValueError as err:
            _LOGGER.warning("Reading of %s for %s refused: %s", metric, self.site_id, err)

    @callback
    def _modbus_reading(self, metric: str, value: float | None, at: datetime) -> None:
        try:
            self.pipeline.observe(metric, value, at)
        except ValueError as err:
            _LOGGER.warning("Reading of %s for %s refused: %s", metric, self.site_id, err)
        if metric == BATTERY_SOE and self._on_soe_change is not None:
            self._on_soe_change()
        self._tick(dt_util.utcnow())

    @callback
    def _modbus_availability(self, available: bool, reason: str | None) -> None:
        if available:
            _LOGGER.info("The SunSpec device of site %s answers again", self.site_id)
        else:
            _LOGGER.warning(
                "The SunSpec device of site %s is unavailable: %s", self.site_id, reason
            )
        self._notify()

    @property
    def echonet_client(self) -> EchonetClient | None:
        return self._echonet_client

    @callback
    def _echonet_availability(self, available: bool, reason: str | None) -> None:
        # The poller logs the change; the readings it reported (None while silent) make
        # the metrics unavailable, and SOURCE_UNAVAILABLE follows after 5 minutes.
        self._notify()

    def soe_kwh(self) -> float | None:
        return self.pipeline.value(BATTERY_SOE)

    # --- sending ---------------------------------------------------------------------------
    @callback
    def _tick(self, now: datetime, *, reading: bool = True) -> None:
        """Send what is due, then sleep until the next metric is due.

        Entities are written once here: after a reading, or after a timer that sent
        something (one that sent nothing changed nothing they show)."""
        if self._timer is not None:
            self._timer()
            self._timer = None
        if self.nameplate_remaining:
            self.pipeline.observe(BATTERY_ENERGY_REMAINING, self.usable_kwh, now)
        due = self.pipeline.due(now)
        messages = [*self._profile(due, now), *self.alerts.check_soe(self.soe_kwh(), now)]
        if self._send(messages) or reading:
            self._notify()
        next_due = self.pipeline.next_due()
        if next_due is not None:
            self._timer = async_track_point_in_utc_time(
                self.hass, self._timer_fired, max(next_due, now + timedelta(seconds=1))
            )

    @callback
    def _timer_fired(self, scheduled_for: datetime) -> None:
        # The later of the set time and the current time: after the clock steps forward
        # (NTP on a board without a clock battery) or the loop stalled, the set time lies in
        # the past, and ticking from it would replay every missed minute at once with stale
        # timestamps; the scheduler skips missed slots itself. A timer fired a hair early
        # still sends what it was set for.
        self._timer = None
        self._tick(max(scheduled_for, dt_util.utcnow()), reading=False)

    @callback
    def _housekeeping(self, now: datetime) -> None:
        messages = self.alerts.check_sources(self.pipeline.unavailable_since(), now)
        for alert in [message.alert for message in messages if message.alert is not None]:
            # Raised and cleared once each: the log says it once too, and the owner gets a
            # repair issue while a sensor the optimizer needs is missing.
            metric = unavailable_source(alert)
            if metric is None:
                continue
            log = _LOGGER.warning if alert.active else _LOGGER.info
            log("Site %s: %s", self.site_id, alert.message)
            issue_id = f"source_unavailable_{self.entry_id}_{metric}"
            if alert.active:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="source_unavailable",
                    translation_placeholders={
                        "metric": metric,
                        "entity_id": self.entities.get(metric, "?"),
                    },
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        if self.forwarder is not None:
            stats = self.forwarder.stats()
            oldest = None if self.outbox is None else self.outbox.oldest_created_at()
            age = None if oldest is None else timedelta(seconds=max(0.0, now.timestamp() - oldest))
            messages += self.alerts.check_backlog(stats.queued, age, now)
        self._send(messages)
        self._notify()

    @callback
    def publish_now(self) -> int:
        """Every metric's latest values at once (the publish_now action)."""
        now = dt_util.utcnow()
        messages = self._profile(self.pipeline.publish_all(now), now)
        self._send_and_notify(messages)
        return len(messages)

    def _profile(self, due: list[OutgoingMessage], now: datetime) -> Sequence[Publishable]:
        """The protocol's messages, or (Pleevi profile) every asset's measurement."""
        if self.pleevi is None:
            return due
        return self.pleevi.measure(self.pipeline, now) if due else []

    def _send(self, messages: Sequence[Publishable]) -> bool:
        """Queue ``messages``; True if any were. Entities are told by the caller, once per
        update (a reading, a timer, an event), not once per step of it."""
        if not messages or self.forwarder is None:
            return False
        self.hass.async_create_task(
            self._save_then_submit(self._stored(), messages), f"{DOMAIN} telemetry send"
        )
        self.last_sent = dt_util.utcnow()
        return True

    def _send_and_notify(self, messages: Sequence[Publishable]) -> None:
        if self._send(messages):
            self._notify()

    async def _save_then_submit(
        self, stored: dict[str, Any], messages: Sequence[Publishable]
    ) -> None:
        # The counters these messages carry are on disk before the messages are queued: a
        # killed Home Assistant restarts from at least what it sent, so no lifetime value
        # goes down (HA's statistics would count it as a new meter cycle: doubled energy).
        # A delayed save would not do: every send postponed it, so it never came.
        await self.store.async_save(stored)
        await self.hass.async_add_executor_job(self._submit, messages)

    def _submit(self, messages: Sequence[Publishable]) -> None:
        # SQLite writes are blocking I/O: never on the event loop. Nobody awaits this job,
        # so a failure is logged here rather than lost in an unretrieved future.
        forwarder = self.forwarder
        if forwarder is None:
            return
        try:
            forwarder.submit_all([(m.topic, m.payload, m.qos) for m in messages])
        except Exception:
            _LOGGER.exception("Queuing telemetry for site %s failed", self.site_id)

    # --- alerts from other parts ------------------------------------------------------------
    @callback
    def report_schedule(self, covered: bool) -> None:
        """No schedule covers now (the fallback) or one does again."""
        self._send_and_notify(self.alerts.check_schedule(covered, dt_util.utcnow()))

    @callback
    def report_battery(self, reachable: bool, detail: str | None) -> None:
        self._send_and_notify(self.alerts.check_battery(reachable, detail, dt_util.utcnow()))

    def _dropped_from_thread(self, drops: DropCounts) -> None:
        counts = {str(reason): count for reason, count in drops.by_reason.items()}
        self.hass.loop.call_soon_threadsafe(self._dropped, counts)

    @callback
    def _dropped(self, counts: dict[str, int]) -> None:
        _LOGGER.warning("Site %s: telemetry dropped from the outbox: %s", self.site_id, counts)
        self._send_and_notify(self.alerts.dropped(counts, dt_util.utcnow()))

    def stats(self) -> ForwarderStats | None:
        return None if self.forwarder is None else self.forwarder.stats()

    # --- feedback --------------------------------------------------------------------------
    def _feedback_from_link(self, topic: str, payload: bytes) -> None:
        self.hass.loop.call_soon_threadsafe(self._feedback, payload)

    @callback
    def _feedback(self, payload: bytes) -> None:
        self.feedback.consume(payload, dt_util.utcnow())
        self._notify()
