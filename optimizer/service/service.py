"""The optimizer service: telemetry in, plans out, over one MQTT connection.

For each configured site it subscribes to ``dt/{site}/+/#`` (telemetry, alerts) and
``res/{site}/command`` (answers to its commands), and on every :meth:`tick`:

- closes the measured slots into PV/load history (:mod:`.site_memory`);
- re-plans at every 30-minute slot, and at once when the SoE drifts far from the plan or
  the prices change; publishes p2 (3 h) every slot, p1 (48 h) every 6 h, p0 (1 year) at
  start and weekly;
- on a rejected command logs it, keeps the last accepted layers, and retries that layer with
  a new command id after 1, 2, 4 minutes (at most :data:`MAX_RETRIES` times);
- when a site's telemetry stops it raises an alert (log + ``last_error``) and sends nothing
  built on stale data: the gateway keeps executing the last valid layers.

Each site's round runs in a thread of its own and solves on a copy of the site's state
without the service lock, so one site's long solve holds up neither the other sites nor
the plan page, status, telemetry or the broker link. Readings a site cannot have made are
refused and reported (:mod:`.telemetry_guard`).

Time comes from an injectable clock, so tests and the demo run a day in seconds; the state
of every site is saved to the state dir every few minutes and restored at start (a damaged
file is set aside and the site starts afresh).
"""

from __future__ import annotations

import functools
import logging
import math
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from bess_dispatch_core.link.backoff import ExponentialBackoff
from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink
from bess_dispatch_core.link.publish_handle import PublishOutcome
from bess_dispatch_core.pleevi import PleeviMeasurement, PleeviValueError
from bess_dispatch_core.protocol import (
    DEFAULT_PROFILE,
    Command,
    ErrorCode,
    Priority,
    ProtocolError,
    TelemetryFeedback,
    TopicKind,
    command_topic,
    parse_alert,
    parse_command,
    parse_command_response,
    parse_lifetime_telemetry,
    parse_power_telemetry,
    parse_windowed_telemetry,
    telemetry_feedback_topic,
)
from bess_dispatch_core.protocol.telemetry import Unit
from optimizer.pleevi.telemetry_input import asset_kinds_of, observations
from optimizer.settings.service_config import ServiceConfig
from optimizer.settings.site import SiteSettings
from optimizer.site import FloatArray, InputError

from .command_economics import command_economics, iso_currency
from .planner import LAYER_NAMES, PLANNED_LAYERS, SitePlan, layer, make_plan
from .prices import PriceError, PriceSource, price_source
from .pv_entity import EntityPvForecast
from .realised import REALISED_DAYS, realised_economics
from .site_memory import (
    COUNTERS,
    SLOT,
    DamagedStateFileError,
    PastSlot,
    ResponseRecord,
    SiteMemory,
    StateFileUnreadableError,
    load_state,
    save_state,
    slot_floor,
)
from .status import PlanPoint, PolicyMiss, SiteStatus
from .telemetry_guard import MAX_FUTURE_SKEW, SOE, PhysicalLimits, reading_time_problem

_LOGGER = logging.getLogger(__name__)

MAX_RETRIES = 3
RETRY_FIRST = timedelta(minutes=1)
P1_EVERY = timedelta(hours=6)
P0_EVERY = timedelta(days=7)
UNANSWERED_AFTER = timedelta(minutes=10)  # a command with no response by then is re-sent
# The state file holds 7 weeks of measured slots; writing it every tick would wear an SD
# card. Lifetime counters make an older file lossless: the next reading's increase covers
# the slots in between.
STATE_SAVE_EVERY = timedelta(minutes=5)
STALE_PREFIX = "no telemetry"
REFUSED_PREFIX = "telemetry refused"
UNREADABLE_PREFIX = "state file not readable"
# What a good planning round clears from last_error: each was about a round or a reading,
# and the round that just succeeded shows the site works again.
CLEARED_BY_A_GOOD_ROUND = (
    "planning failed",
    "planning round failed",
    "state file damaged",
    REFUSED_PREFIX,
)
# stop() waits this long for rounds still solving (their budget is well under it).
STOP_WAIT_S = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Pending:
    priority: Priority
    sent_at: datetime


@dataclass(slots=True)
class _SiteRuntime:
    settings: SiteSettings
    state: SiteMemory
    plan: SitePlan | None = None
    price_version: str | None = None
    p0_sent_this_run: bool = False
    # Commands are not retained and gateways use clean sessions: a p0 sent before the site's
    # gateway was heard from in this run may have reached nobody, so it goes again then.
    gateway_heard_this_run: bool = False
    p0_before_gateway: bool = False
    pending: dict[str, _Pending] = field(default_factory=dict)
    retry_at: dict[Priority, datetime] = field(default_factory=dict)
    attempts: dict[Priority, int] = field(default_factory=dict)
    known_prices: dict[datetime, float] = field(default_factory=dict)
    unpriced: set[datetime] = field(default_factory=set)  # past slots no source could price
    pv_entity: EntityPvForecast | None = None  # the site's HA solar forecast, if configured
    saved_at: datetime | None = None
    rejected: int = 0  # readings refused since start (reported in last_error and the log)
    round: threading.Thread | None = None  # the planning round running or last run
    # The state file could not be read at start (it may be healthy): not overwritten, and
    # read again before each round until it can be.
    restore_pending: bool = False


def broker_settings(config: ServiceConfig) -> BrokerSettings:
    mqtt = config.mqtt
    return BrokerSettings(
        host=mqtt.host,
        port=mqtt.port,
        username=mqtt.username,
        password=mqtt.password,
        client_id=mqtt.client_id,
        tls=ssl.create_default_context() if mqtt.tls else None,
        keepalive=30,
        connect_timeout=5.0,
    )


class OptimizerService:
    """Implements :class:`optimizer.service.status.StatusSource` for the web part."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        prices: PriceSource | None = None,
        telemetry_timeout: timedelta = timedelta(minutes=15),
        soe_drift_fraction: float = 0.1,
        link_backoff: ExponentialBackoff | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.test_mode = config.options.test_mode
        self.telemetry_timeout = telemetry_timeout
        self.soe_drift_fraction = soe_drift_fraction
        self.prices = prices or price_source(
            config.options.tariff,
            timezone=config.timezone,
            clock=clock,
            home_assistant=config.home_assistant,
        )
        self.export_price = config.options.tariff.export_price
        # The plan's economics travel with p2 and p1 only under a real ISO 4217 code.
        self.currency = iso_currency(config.options.tariff.currency)
        self._lock = threading.RLock()
        self._sites: dict[str, _SiteRuntime] = {}
        for settings in config.options.sites:
            state, restore_pending = self._restored(settings)
            self._sites[settings.site_id] = _SiteRuntime(
                settings,
                state,
                restore_pending=restore_pending,
                pv_entity=_pv_entity(config, settings),
            )
        self.started_at: datetime | None = None
        self.link = MqttLink(
            broker_settings(config),
            backoff=link_backoff or ExponentialBackoff(initial=0.5, maximum=10.0),
            name="bess-optimizer-mqtt",
        )
        for site_id, runtime in self._sites.items():
            self.link.subscribe(f"dt/{site_id}/+/#", self._on_message)
            self.link.subscribe(
                DEFAULT_PROFILE.filter(TopicKind.COMMAND_RESPONSE, site_id), self._on_message
            )
            template = runtime.settings.pleevi_topic
            if template is not None:
                self.link.subscribe(
                    template.subscription(site_id), functools.partial(self._on_pleevi, runtime)
                )

    def _restored(self, settings: SiteSettings) -> tuple[SiteMemory, bool]:
        """The site's state from its file; a fresh one, with the reason in ``last_error``,
        when the file is damaged (it is set aside, never overwritten) or cannot be read now
        (then True: it stays in place, to be read again before the next round)."""
        state = SiteMemory(
            settings.site_id,
            self.config.timezone,
            has_load=settings.has_load,
            pv_system=settings.pv,
            limits=PhysicalLimits.of(settings),
        )
        now = self.clock()
        pending = not self._load(state, now)
        self._forget_the_future(state, now)
        return state, pending

    def _load(self, state: SiteMemory, now: datetime) -> bool:
        """Fill ``state`` from its file; False only when the file could not be read now."""
        try:
            if load_state(self.config.state_dir, state, now=now):
                _LOGGER.info(
                    "site %s: state restored from %s", state.site_id, self.config.state_dir
                )
        except DamagedStateFileError as error:
            state.last_error = f"state file damaged: {error}"
            _LOGGER.error("ALERT site %s: %s", state.site_id, state.last_error)
        except StateFileUnreadableError as error:
            state.last_error = (
                f"{UNREADABLE_PREFIX} (left in place, read again next round): {error}"
            )
            _LOGGER.error("ALERT site %s: %s", state.site_id, state.last_error)
            return False
        return True

    def _retry_restore(self, runtime: _SiteRuntime, now: datetime) -> None:
        """Read the file that could not be read at start; once it can, it replaces the
        fresh state (its history is worth more than the minutes learned since)."""
        restored = SiteMemory(
            runtime.settings.site_id,
            self.config.timezone,
            has_load=runtime.settings.has_load,
            pv_system=runtime.settings.pv,
            limits=PhysicalLimits.of(runtime.settings),
        )
        if not self._load(restored, now):
            with self._lock:
                runtime.state.last_error = restored.last_error
            return
        self._forget_the_future(restored, now)
        with self._lock:
            runtime.state = restored
            runtime.restore_pending = False

    @staticmethod
    def _forget_the_future(state: SiteMemory, now: datetime) -> None:
        # A reading stamped ahead of our clock (an older version took them) would keep the
        # site fresh until then: forget such times, the next real reading sets them again.
        horizon = now + MAX_FUTURE_SKEW
        if state.last_telemetry is not None and state.last_telemetry > horizon:
            state.last_telemetry = None
        if state.soe_at is not None and state.soe_at > horizon:
            state.soe_kwh, state.soe_at = None, None
        # A counter stamped ahead would make every real reading look older than it.
        state.counters = {m: (v, at) for m, (v, at) in state.counters.items() if at <= horizon}
        state.slot_energy = {t: e for t, e in state.slot_energy.items() if t <= horizon}

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self.started_at = self.clock()
        self.link.start()

    def stop(self) -> None:
        # Rounds still solving finish first (within the solver's budget), so their plans
        # go out and the saved state includes them.
        deadline = time.monotonic() + STOP_WAIT_S
        for runtime in self._sites.values():
            if runtime.round is not None and runtime.round is not threading.current_thread():
                runtime.round.join(max(0.0, deadline - time.monotonic()))
                if runtime.round.is_alive():
                    _LOGGER.warning(
                        "site %s: planning round still running at stop", runtime.settings.site_id
                    )
        self.link.stop()
        with self._lock:
            for runtime in self._sites.values():
                if not runtime.restore_pending:  # never overwrite a file not yet read
                    save_state(self.config.state_dir, runtime.state)

    def run(self, stop: threading.Event, interval_s: float = 20.0) -> None:
        """Real-time loop for ``serve``: tick until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.tick(wait=False)
            except Exception:
                _LOGGER.exception("planning round failed")
            stop.wait(interval_s)

    # --- incoming ------------------------------------------------------------------------
    def _on_message(self, topic: str, payload: bytes) -> None:
        address = DEFAULT_PROFILE.parse(topic)
        if address is None:
            return
        runtime = self._sites.get(address.site_id)
        if runtime is None:
            return
        if address.kind is TopicKind.COMMAND_RESPONSE:
            self._on_response(runtime, payload)
            return
        if address.gateway_id != runtime.settings.gateway_id:
            # The add-on's broker refuses such topics; another broker may not.
            self._reject(
                runtime,
                topic,
                ProtocolError(
                    ErrorCode.FIELD_OUT_OF_RANGE,
                    "",
                    f"gateway {_echo(address.gateway_id)} is not site {address.site_id}'s gateway "
                    f"({runtime.settings.gateway_id!r})",
                ),
            )
            return
        errors: tuple[ProtocolError, ...] = ()
        message_id: str | None = None
        refused: ProtocolError | None = None
        now = self.clock()
        with self._lock:
            state = runtime.state
            runtime.gateway_heard_this_run = True
            match address.kind:
                case TopicKind.LIFETIME:
                    lifetime = parse_lifetime_telemetry(payload)
                    errors, message_id = lifetime.errors, lifetime.message_id
                    if lifetime.value is not None:
                        value, at = lifetime.value.value, lifetime.value.measured_at
                        refused = _time_refusal(at, now) or self._observe(
                            state, str(address.metric), value, at
                        )
                case TopicKind.POWER:
                    power = parse_power_telemetry(payload)
                    errors, message_id = power.errors, power.message_id
                    if power.value is not None and address.metric == SOE:
                        reading = power.value
                        refused = _time_refusal(reading.measured_at, now)
                        if refused is None and reading.unit is not Unit.KWH:
                            refused = ProtocolError(
                                ErrorCode.FIELD_OUT_OF_RANGE,
                                "measurement_value.unit",
                                f"battery_soe is stored energy in kWh, not {reading.unit.value}",
                            )
                        refused = refused or self._observe(
                            state, SOE, reading.value, reading.measured_at
                        )
                case TopicKind.WINDOWED:
                    windowed = parse_windowed_telemetry(payload, expected_window=address.window)
                    errors, message_id = windowed.errors, windowed.message_id
                case TopicKind.ALERT:
                    alert = parse_alert(payload)
                    errors, message_id = alert.errors, alert.message_id
                    if alert.value is not None and alert.value.active:
                        _LOGGER.warning(
                            "site %s gateway alert %s: %.500s",
                            address.site_id,
                            alert.value.code,
                            alert.value.message,
                        )
                case _:
                    return
            back = (
                refused is None
                and state.last_telemetry is not None
                and now - state.last_telemetry <= self.telemetry_timeout
                and state.last_error is not None
                and state.last_error.startswith(STALE_PREFIX)
            )
            if back:
                _LOGGER.info("site %s: telemetry is back", address.site_id)
                state.last_error = None
        if refused is not None:
            self._reject(runtime, topic, refused, message_id)
            return
        if errors:
            _LOGGER.warning(
                "site %s: invalid telemetry on %s: %.1000s", address.site_id, topic, errors
            )
        if self.test_mode and message_id is not None and address.gateway_id is not None:
            self._feedback(address.site_id, address.gateway_id, message_id, errors)

    def _on_pleevi(self, runtime: _SiteRuntime, topic: str, payload: bytes) -> None:
        """A Pleevi measurement from the site's gateway (the Pleevi profile): its SoE and
        PV counter go to the state through the same checks as the protocol's readings."""
        settings = runtime.settings
        now = self.clock()
        refused: ProtocolError | None = None
        try:
            measurement = PleeviMeasurement.from_payload(payload)
            found = observations(
                measurement,
                asset_kinds=asset_kinds_of(
                    settings.site_id,
                    None if settings.pleevi_battery is None else settings.pleevi_battery.name,
                ),
                capacity_kwh=settings.battery_capacity_kwh,
            )
        except PleeviValueError as error:
            refused = ProtocolError(ErrorCode.FIELD_OUT_OF_RANGE, error.field, str(error))
            found = []
        with self._lock:
            runtime.gateway_heard_this_run = True
            for seen in found:
                refused = refused or _time_refusal(seen.at, now)
                refused = refused or self._observe(
                    runtime.state, seen.metric, seen.value_kwh, seen.at
                )
        if refused is not None:
            self._reject(runtime, topic, refused)

    @staticmethod
    def _observe(
        state: SiteMemory, metric: str, value: float, at: datetime
    ) -> ProtocolError | None:
        """Hand a reading to the state; the refusal if the site's physics rule it out."""
        if metric == SOE:
            problem = state.observe_soe(value, at)
        elif metric in COUNTERS:
            problem = state.observe_counter(metric, value, at)
        else:
            state.seen(at)
            problem = None
        if problem is None:
            return None
        return ProtocolError(ErrorCode.FIELD_OUT_OF_RANGE, "measurement_value.value", problem)

    def _reject(
        self,
        runtime: _SiteRuntime,
        topic: str,
        refusal: ProtocolError,
        message_id: str | None = None,
    ) -> None:
        """Report a refused reading: ``last_error``, the log, and the test broker's feedback.

        The log names the first few and then every hundredth, so a flood stays readable.
        """
        site_id = runtime.settings.site_id
        with self._lock:
            runtime.rejected += 1
            count = runtime.rejected
            runtime.state.last_error = (
                f"{REFUSED_PREFIX} ({count} so far): {topic[:200]}: {refusal.message}"
            )
        if count <= 10 or count % 100 == 0:
            _LOGGER.warning(
                "ALERT site %s: reading refused (%d so far) on %.200s: %s",
                site_id,
                count,
                topic,
                refusal,
            )
        address = DEFAULT_PROFILE.parse(topic)
        known_gateway = address is not None and address.gateway_id == runtime.settings.gateway_id
        if self.test_mode and message_id is not None and known_gateway:
            self._feedback(site_id, runtime.settings.gateway_id, message_id, (refusal,))

    def _feedback(
        self, site_id: str, gateway_id: str, message_id: str, errors: tuple[ProtocolError, ...]
    ) -> None:
        now = self.clock()
        feedback = (
            TelemetryFeedback.error(in_reply_to=message_id, errors=errors, now=now)
            if errors
            else TelemetryFeedback.ok(in_reply_to=message_id, now=now)
        )
        self.link.publish(telemetry_feedback_topic(site_id, gateway_id), feedback.to_payload())

    def _on_response(self, runtime: _SiteRuntime, payload: bytes) -> None:
        result = parse_command_response(payload)
        if result.value is None:
            _LOGGER.warning(
                "site %s: invalid command response: %s", runtime.settings.site_id, result.errors
            )
            return
        response = result.value
        now = self.clock()
        accepted = response.status.value == "accepted"
        text = "; ".join(str(error) for error in response.errors)
        with self._lock:
            state = runtime.state
            state.record_response(ResponseRecord(response.command_id, accepted, text, now))
            pending = runtime.pending.pop(response.command_id or "", None)
            if pending is None:
                if response.errors:  # a later report, e.g. RESOURCE_UNAVAILABLE
                    _LOGGER.warning(
                        "site %s: %s reports %s", state.site_id, response.command_id, text
                    )
                return
            name = LAYER_NAMES[pending.priority]
            if accepted:
                state.layers[name] = response.command_id
                runtime.attempts.pop(pending.priority, None)
                runtime.retry_at.pop(pending.priority, None)
                return
            attempts = runtime.attempts.get(pending.priority, 0) + 1
            runtime.attempts[pending.priority] = attempts
            state.last_error = f"{name} command {response.command_id} rejected: {text}"
            _LOGGER.error("site %s: %s", state.site_id, state.last_error)
            if attempts <= MAX_RETRIES:
                runtime.retry_at[pending.priority] = now + RETRY_FIRST * 2 ** (attempts - 1)
            else:
                _LOGGER.error(
                    "site %s: %s rejected %d times, waiting for its next regular round",
                    state.site_id,
                    name,
                    attempts,
                )
                runtime.attempts.pop(pending.priority, None)
                runtime.retry_at.pop(pending.priority, None)

    # --- planning ------------------------------------------------------------------------
    def tick(self, now: datetime | None = None, *, wait: bool = True) -> None:
        """Start whatever is due at ``now`` (default: the clock) for every site.

        Each site's round runs in a thread of its own, so a slow or failing solve holds up
        only its site, and no solve runs under the service lock (plan page, status,
        telemetry go on). A site whose previous round is still running is skipped this time.
        ``wait`` blocks until the rounds started here are done (tests, the demo); the
        real-time loop does not wait.
        """
        now = now or self.clock()
        if self.started_at is None:
            self.started_at = now
        started: list[threading.Thread] = []
        for runtime in self._sites.values():
            site_id = runtime.settings.site_id
            if runtime.round is not None and runtime.round.is_alive():
                _LOGGER.info("site %s: still planning, skipped this round", site_id)
                continue
            runtime.round = threading.Thread(
                target=self._round, args=(runtime, now), name=f"bess-plan-{site_id}", daemon=True
            )
            runtime.round.start()
            started.append(runtime.round)
        if wait:
            for thread in started:
                thread.join()

    def _round(self, runtime: _SiteRuntime, now: datetime) -> None:
        """One site's round; whatever goes wrong stays with this site and is reported."""
        site_id = runtime.settings.site_id
        if runtime.restore_pending:
            self._retry_restore(runtime, now)
        try:
            self._tick_site(runtime, now)
        except Exception as error:
            with self._lock:
                runtime.state.last_error = f"planning round failed: {error}"[:1000]
            _LOGGER.exception("ALERT site %s: planning round failed", site_id)
        try:
            with self._lock:
                due = runtime.saved_at is None or now - runtime.saved_at >= STATE_SAVE_EVERY
                if due and not runtime.restore_pending:
                    save_state(self.config.state_dir, runtime.state)
                    runtime.saved_at = now
        except OSError as error:
            with self._lock:
                runtime.state.last_error = f"state not saved: {error}"
            _LOGGER.error("ALERT site %s: state not saved: %s", site_id, error)

    def _stale(self, runtime: _SiteRuntime, now: datetime) -> bool:
        state = runtime.state
        since = state.last_telemetry or self.started_at
        if since is None or now - since <= self.telemetry_timeout:
            return False
        if state.last_error is None or not state.last_error.startswith(STALE_PREFIX):
            state.last_error = (
                f"{STALE_PREFIX} since {since.isoformat()}: keeping the last valid layers"
            )
            _LOGGER.warning("ALERT site %s: %s", state.site_id, state.last_error)
        return True

    def _due(self, runtime: _SiteRuntime, now: datetime) -> set[Priority]:
        state = runtime.state
        sent = state.layers_sent_at
        due: set[Priority] = set()
        if not runtime.p0_sent_this_run or _older(sent["p0"], now, P0_EVERY):
            due.add(Priority.FALLBACK)
        if runtime.p0_before_gateway and runtime.gateway_heard_this_run:
            due.add(Priority.FALLBACK)
        six_hours = now.replace(minute=0, second=0, microsecond=0)
        six_hours -= timedelta(hours=six_hours.astimezone(state.zone).hour % 6)
        if sent["p1"] is None or sent["p1"] < six_hours:
            due.add(Priority.DAY_AHEAD)
        if sent["p2"] is None or sent["p2"] < slot_floor(now):
            due.add(Priority.INTRADAY)
        for priority, at in runtime.retry_at.items():
            if at <= now:
                due.add(priority)
        for command_id, pending in list(runtime.pending.items()):
            if now - pending.sent_at >= UNANSWERED_AFTER:
                runtime.pending.pop(command_id)
                _LOGGER.warning(
                    "site %s: no answer to %s, sending again", state.site_id, command_id
                )
                due.add(pending.priority)
        return due

    def _tick_site(self, runtime: _SiteRuntime, now: datetime) -> None:
        try:
            price_version: str | PriceError = self.prices.version()  # may read a URL: no lock
        except PriceError as error:
            price_version = error
        with self._lock:
            state = runtime.state
            state.close_slots(now)
            due = self._due(runtime, now)
            if self._stale(runtime, now):
                due &= {Priority.FALLBACK}  # p0 needs no telemetry: it is the safety net
            else:
                due |= self._changes(runtime, now, price_version)
            # The planner gets a copy: telemetry goes on changing the state while it solves.
            inputs = state.planning_copy() if due - {Priority.FALLBACK} else None
        if inputs is not None and not self._replan(runtime, inputs, now, due):
            due &= {Priority.FALLBACK}
        with self._lock:
            if not self.link.connected:
                return  # still due: sent on the first tick after the reconnection
            for priority in sorted(due):
                self._publish(runtime, priority, now)

    def _changes(
        self, runtime: _SiteRuntime, now: datetime, version: str | PriceError
    ) -> set[Priority]:
        """Layers to re-send because the world moved: new prices, SoE far from the plan."""
        changed: set[Priority] = set()
        if isinstance(version, PriceError):
            runtime.state.last_error = str(version)
            return changed
        if runtime.price_version is not None and version != runtime.price_version:
            _LOGGER.info("site %s: new prices, re-planning", runtime.settings.site_id)
            changed |= {Priority.DAY_AHEAD, Priority.INTRADAY}
        runtime.price_version = version
        plan, soe = runtime.plan, runtime.state.soe_kwh
        if plan is not None and soe is not None:
            expected = plan.planned_soe(now)
            limit = self.soe_drift_fraction * runtime.settings.battery_capacity_kwh
            if expected is not None and abs(expected - soe) > limit:
                _LOGGER.info(
                    "site %s: SoE %.2f kWh far from the plan's %.2f, re-planning",
                    runtime.settings.site_id,
                    soe,
                    expected,
                )
                changed.add(Priority.INTRADAY)
        return changed

    def _replan(
        self, runtime: _SiteRuntime, inputs: SiteMemory, now: datetime, layers: set[Priority]
    ) -> bool:
        """Plan ``layers`` from ``inputs`` without the lock; then, under it, make it current."""
        try:
            plan = make_plan(
                runtime.settings,
                inputs,
                self.prices,
                self.export_price,
                now,
                layers=layers,
                pv_entity=runtime.pv_entity,
            )
        except (InputError, PriceError, ValueError) as error:
            with self._lock:
                runtime.state.last_error = f"planning failed: {error}"
            _LOGGER.error("site %s: planning failed: %s", runtime.settings.site_id, error)
            return False
        with self._lock:
            return self._install(runtime, plan)

    def _install(self, runtime: _SiteRuntime, plan: SitePlan) -> bool:
        before = {} if runtime.plan is None else {a.code: a for a in runtime.plan.alerts}
        after = {alert.code: alert for alert in plan.alerts}
        site_id = runtime.settings.site_id
        for code, alert in after.items():
            if code not in before:
                _LOGGER.warning("ALERT site %s: %s: %s", site_id, code, alert.message)
        for code in before.keys() - after.keys():
            _LOGGER.info("site %s: %s cleared", site_id, code)
        runtime.plan = plan
        if runtime.state.last_error is not None and runtime.state.last_error.startswith(
            CLEARED_BY_A_GOOD_ROUND
        ):
            runtime.state.last_error = None
        for start, price in zip(plan.slot_starts, plan.prices, strict=True):
            runtime.known_prices[start] = float(price)
        return True

    def _publish(self, runtime: _SiteRuntime, priority: Priority, now: datetime) -> None:
        state = runtime.state
        name = LAYER_NAMES[priority]
        command_id = f"{state.site_id}-{name}-{now:%Y%m%dT%H%M}-{uuid.uuid4().hex[:6]}"
        try:
            economics = None
            if runtime.plan is not None and priority in PLANNED_LAYERS:
                economics = command_economics(runtime.plan, self.currency)
            command = layer(
                runtime.plan, priority, command_id=command_id, now=now, economics=economics
            )
        except ValueError as error:
            state.last_error = f"{name}: {error}"
            _LOGGER.error("site %s: %s", state.site_id, state.last_error)
            return
        if not _valid(command, now):
            state.last_error = f"{name}: the built command does not validate; not sent"
            _LOGGER.error("site %s: %s", state.site_id, state.last_error)
            return
        handle = self.link.publish(command_topic(state.site_id), command.to_payload(), qos=1)
        if handle.outcome is PublishOutcome.FAILED:
            _LOGGER.warning("site %s: %s not sent (%s)", state.site_id, name, handle.reason)
            return
        runtime.pending[command_id] = _Pending(priority, now)
        runtime.retry_at.pop(priority, None)
        state.layers_sent_at[name] = now
        if priority is Priority.FALLBACK:
            runtime.p0_sent_this_run = True
            runtime.p0_before_gateway = not runtime.gateway_heard_this_run
        _LOGGER.info(
            "site %s: sent %s %s (%d entries)",
            state.site_id,
            name,
            command_id,
            len(command.schedule),
        )

    # --- StatusSource --------------------------------------------------------------------
    def site_ids(self) -> list[str]:
        return list(self._sites)

    def status(self, site_id: str) -> SiteStatus:
        runtime = self._sites[site_id]
        with self._lock:
            state = runtime.state
            now = self.clock()
            fresh = (
                state.last_telemetry is not None
                and now - state.last_telemetry <= self.telemetry_timeout
            )
            return SiteStatus(
                site_id=site_id,
                connected=self.link.connected and fresh,
                last_telemetry=state.last_telemetry,
                soe_kwh=state.soe_kwh,
                last_plan_at=None if runtime.plan is None else runtime.plan.made_at,
                layers=dict(state.layers),
                last_error=state.last_error,
                plan_quality=None if runtime.plan is None else runtime.plan.quality,
                plan_economics=None if runtime.plan is None else runtime.plan.economics,
                policy_misses=()
                if runtime.plan is None
                else tuple(
                    PolicyMiss(miss.at, miss.planned_kwh, miss.min_kwh, miss.max_kwh)
                    for miss in runtime.plan.missed_targets
                ),
                alerts=() if runtime.plan is None else runtime.plan.alerts,
                realised=realised_economics(
                    list(state.measured.values()),
                    self._past_prices(runtime, now),
                    runtime.settings,
                    export_price=self.export_price,
                    now=now,
                ),
            )

    def plan(self, site_id: str) -> list[PlanPoint]:
        runtime = self._sites[site_id]
        with self._lock:
            points = [
                point
                for past in runtime.state.history
                if (point := self._past_point(runtime, past))
            ]
            plan = runtime.plan
            if plan is not None:
                first_future = points[-1].start + SLOT if points else plan.slot_starts[0]
                for index, start in enumerate(plan.slot_starts):
                    if start < first_future:
                        continue
                    points.append(
                        PlanPoint(
                            start=start,
                            soe_kwh=float(plan.plan.soe_kwh[index]),
                            battery_kw=float(plan.plan.battery_kw[index]),
                            price=float(plan.prices[index]),
                            pv_kw=float(plan.pv_kw[index]),
                            load_kw=float(plan.load_kw[index]),
                            past=False,
                        )
                    )
            return points

    def _past_prices(self, runtime: _SiteRuntime, now: datetime) -> dict[datetime, float]:
        """Prices of the measured slots of the realised window: those the plans used, else
        (after a restart) the source's, asked once; a price it cannot vouch for is left out."""
        since = now - timedelta(days=REALISED_DAYS)
        # Older prices serve nothing any more (the page shows 2 days, the saving 7): drop them
        # so a service that runs for years keeps a bounded memory.
        for start in [start for start in runtime.known_prices if start < since]:
            del runtime.known_prices[start]
        runtime.unpriced = {start for start in runtime.unpriced if start >= since}
        missing = [
            start
            for start in runtime.state.measured
            if start >= since
            and start not in runtime.known_prices
            and start not in runtime.unpriced
        ]
        if missing:
            try:
                prices, trusted = self.prices.quote(missing)
            except PriceError:
                prices, trusted = np.zeros(len(missing)), np.zeros(len(missing), dtype=np.bool_)
            for start, price, known in zip(missing, prices, trusted, strict=True):
                if known and math.isfinite(price):
                    runtime.known_prices[start] = float(price)
                else:
                    runtime.unpriced.add(start)
        return runtime.known_prices

    def _past_point(self, runtime: _SiteRuntime, past: PastSlot) -> PlanPoint | None:
        """A measured slot for the chart; None when its SoE or price is unknown (the web
        part gets finite numbers only). A slot whose load could not be derived shows 0."""
        price = runtime.known_prices.get(past.start)
        if price is None:
            try:
                price = float(self.prices.prices([past.start])[0])
            except PriceError:
                return None
            runtime.known_prices[past.start] = price
        if past.soe_kwh is None or not math.isfinite(price):
            return None
        return PlanPoint(
            start=past.start,
            soe_kwh=past.soe_kwh,
            battery_kw=past.battery_kw,
            price=price,
            pv_kw=past.pv_kw,
            load_kw=past.load_kw if past.load_kw is not None else 0.0,
            past=True,
        )

    def seed_profiles(self, site_id: str, pv_kw: FloatArray, load_kw: FloatArray) -> None:
        """Warm-start the forecasts with a known day (demo, tests, a migrated site)."""
        with self._lock:
            self._sites[site_id].state.seed_profiles(pv_kw, load_kw, self.clock())

    def readings_at(self, site_id: str, at: datetime) -> bool:
        """True once the SoE and every counter of the site have a reading at or after ``at``."""
        with self._lock:
            state = self._sites[site_id].state
            if state.soe_at is None or state.soe_at < at or not state.counters:
                return False
            return all(when >= at for _value, when in state.counters.values())

    def awaiting_responses(self, site_id: str) -> int:
        """Commands sent to the site and not answered yet."""
        with self._lock:
            return len(self._sites[site_id].pending)

    def current_plan(self, site_id: str) -> SitePlan | None:
        return self._sites[site_id].plan


def _pv_entity(config: ServiceConfig, settings: SiteSettings) -> EntityPvForecast | None:
    if settings.pv_forecast_entity is None:
        return None
    kwp = None if settings.pv is None else settings.pv.kwp
    return EntityPvForecast(config.home_assistant, settings.pv_forecast_entity, kwp=kwp)


def _echo(text: str | None, limit: int = 60) -> str:
    """``text`` quoted for a message, cut: peers choose ids and topics of any length."""
    text = text or ""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} chars)"


def _time_refusal(at: datetime, now: datetime) -> ProtocolError | None:
    problem = reading_time_problem(at, now)
    return (
        None
        if problem is None
        else ProtocolError(ErrorCode.FIELD_OUT_OF_RANGE, "measured_at", problem)
    )


def _older(moment: datetime | None, now: datetime, age: timedelta) -> bool:
    return moment is None or now - moment >= age


def _valid(command: Command, now: datetime) -> bool:
    """Round-trip through the gateway's own parser: never publish what it would reject."""
    result = parse_command(command.to_payload(), now=now)
    if result.errors:
        _LOGGER.error("built command invalid: %s", result.errors)
    return not result.errors
