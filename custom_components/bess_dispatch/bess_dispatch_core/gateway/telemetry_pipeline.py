"""Readings in, protocol telemetry messages out: one pure object per gateway.

:meth:`TelemetryPipeline.observe` takes each reading (None = the source is unavailable);
:meth:`TelemetryPipeline.due` returns the messages of every metric whose cadence is due.
What each metric sends when due:

- energy metrics (counted from an energy sensor or integrated from a power sensor):
  ``…/lifetime`` (kWh since counting began, continued across restarts via ``to_dict``),
  ``…/energy/{window}`` for every window closed since the last send (oldest first), and
  ``…/power`` (kW) when the source is a power sensor;
- ``battery_soe`` and ``battery_energy_remaining`` (levels, kWh): ``…/power`` with unit kWh
  and ``…/lifetime`` carrying the level (the catalogue's rule for state metrics: "reported
  as its value on the power topic and as lifetime"); no windowed energy;
- ``curtailment`` (a power source, kW): ``…/power`` only, due again when it changes.

Honesty rules: nothing is sent for a source while it is unavailable (no stale lifetime, no
power); the pending closed windows are real measurements and still go out. A power source
that goes unavailable (or is silent longer than ``max_power_gap``) adds no energy for the
gap, and the windows around the gap are not reported (the accumulator restarts), so no
energy is ever invented. An energy meter counted on during the gap, so its next reading
carries that energy.

A metric that falls due before its source ever reported (or while it is unavailable) is
"owed": it goes out as soon as a reading arrives (``next_due`` says when) instead of
waiting a whole interval.

Every message gets a fresh envelope (uuid4 ``message_id``) exactly once, here; the caller
stores the payload bytes in the outbox so a retransmission keeps the id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..protocol.metrics import CURTAILMENT
from ..protocol.telemetry import LifetimeTelemetry, PowerTelemetry, Unit, WindowedTelemetry
from ..protocol.topics import DEFAULT_PROFILE, TopicKind, TopicProfile, validate_topic_id
from ..units import soe_kwh
from .energy_counter import (
    CounterState,
    EnergyMeterCounter,
    MeterSemantics,
    PowerFlow,
    PowerIntegratingCounter,
    energy_unit,
)
from .metric_source import MetricSource, SourceQuantity
from .outgoing_message import OutgoingMessage
from .telemetry_scheduler import MetricCadence, TelemetryScheduler
from .window_accumulator import ClosedWindow, WindowAccumulator

__all__ = ["MetricSource", "OutgoingMessage", "SourceQuantity", "TelemetryPipeline"]

_STATE_VERSION = 1
_DIGITS = 6  # 1 mWh / 1 mW: far below any meter's resolution, keeps payloads short
_KWH_PER_UNIT = {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}
# Before the first call, every metric is due: the scheduler starts "at the beginning of time".
_START = datetime(1970, 1, 1, tzinfo=UTC)

type _Counter = EnergyMeterCounter | PowerIntegratingCounter


@dataclass(slots=True)
class _Channel:
    """Runtime state of one metric."""

    source: MetricSource
    counter: _Counter | None
    windows: WindowAccumulator | None
    pending: list[ClosedWindow] = field(default_factory=list)
    value: float | None = None  # latest value in protocol units (kW or kWh); None = unknown
    last_at: datetime | None = None  # time of the latest reading, available or not
    measured_at: datetime | None = None  # time of the latest available reading
    unavailable_since: datetime | None = None


class TelemetryPipeline:
    """Counters, windows and cadence of every configured metric; pure and clock-free."""

    def __init__(
        self,
        *,
        site_id: str,
        gateway_id: str,
        sources: Sequence[MetricSource],
        capacity_kwh: float,
        window: timedelta = timedelta(minutes=5),
        cadence: timedelta = timedelta(minutes=1),
        topic_profile: TopicProfile | None = None,
        max_power_gap: timedelta = timedelta(minutes=5),
    ) -> None:
        self._site_id = validate_topic_id(site_id, "site_id")
        self._gateway_id = validate_topic_id(gateway_id, "gateway_id")
        if not capacity_kwh > 0:
            raise ValueError(f"capacity_kwh must be > 0, got {capacity_kwh!r}")
        if window <= timedelta(0):
            raise ValueError(f"window must be positive, got {window}")
        if max_power_gap <= timedelta(0):
            raise ValueError(f"max_power_gap must be positive, got {max_power_gap}")
        self._capacity_kwh = float(capacity_kwh)
        self._window = window
        self._max_power_gap = max_power_gap
        self._profile = topic_profile or DEFAULT_PROFILE
        self._channels: dict[str, _Channel] = {}
        for source in sources:
            if source.metric in self._channels:
                raise ValueError(f"{source.metric}: configured twice")
            self._channels[source.metric] = _Channel(
                source, self._new_counter(source, None), self._new_windows(source)
            )
        # MetricCadence validates the interval against the protocol's maximum per metric.
        self._scheduler = TelemetryScheduler(
            [MetricCadence.default(name, cadence) for name in self._channels], now=_START
        )
        self._owed: dict[str, datetime | None] = {}  # metric -> when it became sendable
        self._started_at: datetime | None = None

    # --- readings ------------------------------------------------------------------------
    @property
    def metrics(self) -> list[str]:
        return list(self._channels)

    def observe(
        self,
        metric: str,
        value: float | None,
        at: datetime,
        *,
        last_reset: datetime | None = None,
    ) -> None:
        """A new reading in the source's unit (None = unavailable). ``last_reset`` is the
        ``total`` sensor's reset time, if it has one. Readings older than the previous one
        of the same metric are ignored. ValueError for a non-finite or impossible value."""
        channel = self._channel(metric)
        _check_aware(at, "at")
        self._start(at)
        if channel.last_at is not None and at < channel.last_at:
            return
        channel.last_at = at
        if value is None:
            self._unavailable(channel, at)
            return
        source = channel.source
        match source.quantity:
            case SourceQuantity.ENERGY:
                assert isinstance(channel.counter, EnergyMeterCounter)
                lifetime = channel.counter.update(value, at, last_reset=last_reset)
                self._feed_windows(channel, at, lifetime)
            case SourceQuantity.POWER if source.is_counter:
                assert isinstance(channel.counter, PowerIntegratingCounter)
                gaps = channel.counter.gaps
                lifetime = channel.counter.update(value, at)
                if channel.counter.gaps != gaps:
                    # Energy of the gap is unknown: windows around it must not be reported.
                    channel.windows = self._new_windows(source)
                self._feed_windows(channel, at, lifetime)
                channel.value = _one_way_kw(source, value)
            case SourceQuantity.POWER:  # curtailment: a level in kW, sent when it changes
                channel.value = _finite(value, metric) * _power_factor(source.unit)
                self._scheduler.observe(metric, round(channel.value, _DIGITS), at)
            case SourceQuantity.SOC_PERCENT:
                try:
                    channel.value = soe_kwh(value, self._capacity_kwh)
                except ValueError as error:
                    raise ValueError(f"{metric}: {error}") from None
            case SourceQuantity.ENERGY_STATE:
                channel.value = _finite(value, metric) * _KWH_PER_UNIT[source.unit]
        channel.measured_at = at
        channel.unavailable_since = None
        if metric in self._owed and self._owed[metric] is None:
            self._owed[metric] = at

    def _unavailable(self, channel: _Channel, at: datetime) -> None:
        if channel.unavailable_since is None:
            channel.unavailable_since = at
        channel.value = None
        if isinstance(channel.counter, PowerIntegratingCounter):
            channel.counter.update(None, at)
            channel.windows = self._new_windows(channel.source)

    def _feed_windows(self, channel: _Channel, at: datetime, lifetime: float) -> None:
        assert channel.windows is not None
        channel.pending.extend(channel.windows.update(at, lifetime).closed)

    # --- sending -------------------------------------------------------------------------
    def due(self, now: datetime) -> list[OutgoingMessage]:
        """Messages of every metric whose cadence is due at ``now`` (and owed ones that can
        be sent now); timers move on to their next slot."""
        _check_aware(now, "now")
        self._start(now)
        names = self._scheduler.due(now)
        names += [
            name
            for name, ready in self._owed.items()
            if ready is not None and ready <= now and name not in names
        ]
        return self._build_all(names, now)

    def publish_all(self, now: datetime) -> list[OutgoingMessage]:
        """Everything that can be sent now, whatever the cadence (the "publish now" action);
        timers are left as they are."""
        _check_aware(now, "now")
        self._start(now)
        return self._build_all(list(self._channels), now)

    def next_due(self) -> datetime | None:
        """When :meth:`due` next has something to do (None: no metric configured)."""
        candidates = [ready for ready in self._owed.values() if ready is not None]
        scheduled = self._scheduler.next_due()
        if scheduled is not None:
            candidates.append(scheduled)
        return min(candidates, default=None)

    def _build_all(self, names: list[str], now: datetime) -> list[OutgoingMessage]:
        messages: list[OutgoingMessage] = []
        for name in names:
            built = self._build(self._channels[name], now)
            if built:
                self._owed.pop(name, None)
            elif name not in self._owed:
                self._owed[name] = None
            messages += built
        return messages

    def _build(self, channel: _Channel, now: datetime) -> list[OutgoingMessage]:
        name = channel.source.metric
        messages: list[OutgoingMessage] = []
        for closed in channel.pending:
            telemetry = WindowedTelemetry.create(
                value=round(closed.energy_kwh, _DIGITS),
                window_start=closed.start,
                window_end=closed.end,
                now=now,
            )
            topic = self._topic(TopicKind.WINDOWED, name, closed.end - closed.start)
            messages.append(_message(topic, TopicKind.WINDOWED, name, telemetry))
        channel.pending.clear()
        available = channel.unavailable_since is None and channel.measured_at is not None
        if not available:
            return messages
        assert channel.measured_at is not None
        at = channel.measured_at
        if channel.counter is not None:
            lifetime = LifetimeTelemetry.create(
                value=round(channel.counter.lifetime_kwh, _DIGITS), measured_at=at, now=now
            )
            messages.append(self._lifetime(name, lifetime))
        elif channel.value is not None and name != CURTAILMENT:
            level = LifetimeTelemetry.create(
                value=round(channel.value, _DIGITS), measured_at=at, now=now
            )
            messages.append(self._lifetime(name, level))
        if channel.value is not None and channel.source.quantity is not SourceQuantity.ENERGY:
            unit = Unit.KW if channel.source.quantity is SourceQuantity.POWER else Unit.KWH
            power = PowerTelemetry.create(
                value=round(channel.value, _DIGITS), measured_at=at, now=now, unit=unit
            )
            topic = self._topic(TopicKind.POWER, name)
            messages.append(_message(topic, TopicKind.POWER, name, power))
        return messages

    def _lifetime(self, name: str, telemetry: LifetimeTelemetry) -> OutgoingMessage:
        return _message(self._topic(TopicKind.LIFETIME, name), TopicKind.LIFETIME, name, telemetry)

    def _topic(self, kind: TopicKind, metric: str, window: timedelta | None = None) -> str:
        return self._profile.build(kind, self._site_id, self._gateway_id, metric, window)

    # --- availability --------------------------------------------------------------------
    def unavailable_since(self) -> dict[str, datetime]:
        """Metrics whose source is unavailable now, with since when; a source that never
        reported counts from the pipeline's first use."""
        result: dict[str, datetime] = {}
        for name, channel in self._channels.items():
            if channel.unavailable_since is not None:
                result[name] = channel.unavailable_since
            elif channel.measured_at is None and self._started_at is not None:
                result[name] = self._started_at
        return result

    def unavailable_metrics(self, now: datetime, after: timedelta) -> list[str]:
        """Metrics unavailable for at least ``after`` at ``now``."""
        _check_aware(now, "now")
        self._start(now)
        return [name for name, since in self.unavailable_since().items() if now - since >= after]

    def lifetime_kwh(self, metric: str) -> float | None:
        """The lifetime counter of an energy metric (None for levels)."""
        counter = self._channel(metric).counter
        return None if counter is None else counter.lifetime_kwh

    def value(self, metric: str) -> float | None:
        """Latest value in protocol units (kW for power, kWh for levels), None if unknown."""
        return self._channel(metric).value

    # --- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Counters, open windows and closed-but-unsent windows (JSON-friendly)."""
        return {
            "version": _STATE_VERSION,
            "window_s": self._window.total_seconds(),
            "metrics": {
                name: {
                    "quantity": channel.source.quantity.value,
                    "counter": None if channel.counter is None else channel.counter.state.to_dict(),
                    "windows": None if channel.windows is None else channel.windows.to_dict(),
                    "pending": [
                        [w.start.isoformat(), w.end.isoformat(), w.energy_kwh]
                        for w in channel.pending
                    ],
                }
                for name, channel in self._channels.items()
            },
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        site_id: str,
        gateway_id: str,
        sources: Sequence[MetricSource],
        capacity_kwh: float,
        window: timedelta = timedelta(minutes=5),
        cadence: timedelta = timedelta(minutes=1),
        topic_profile: TopicProfile | None = None,
        max_power_gap: timedelta = timedelta(minutes=5),
    ) -> TelemetryPipeline:
        """A pipeline for the given configuration, continuing from ``to_dict``. A metric whose
        source changed kind keeps only its lifetime; a changed window drops the open window;
        metrics no longer configured are forgotten. ValueError names a malformed field."""
        pipeline = cls(
            site_id=site_id,
            gateway_id=gateway_id,
            sources=sources,
            capacity_kwh=capacity_kwh,
            window=window,
            cadence=cadence,
            topic_profile=topic_profile,
            max_power_gap=max_power_gap,
        )
        if data.get("version") != _STATE_VERSION:
            raise ValueError(f"pipeline state: unsupported version {data.get('version')!r}")
        same_window = data.get("window_s") == window.total_seconds()
        stored = data.get("metrics")
        if not isinstance(stored, Mapping):
            raise ValueError("pipeline state: metrics must be an object")
        for name, channel in pipeline._channels.items():
            item = stored.get(name)
            if not isinstance(item, Mapping):
                continue
            try:
                pipeline._restore(channel, item, same_window=same_window)
            except (TypeError, ValueError, KeyError) as error:
                raise ValueError(f"pipeline state: metrics.{name}: {error}") from error
        return pipeline

    def _restore(self, channel: _Channel, item: Mapping[str, Any], *, same_window: bool) -> None:
        source = channel.source
        counter_data = item.get("counter")
        if channel.counter is not None and isinstance(counter_data, dict):
            state = CounterState.from_dict(counter_data)
            same_kind = item.get("quantity") == source.quantity.value
            if not same_kind:
                state = CounterState(lifetime_kwh=state.lifetime_kwh)  # other baseline kind
            channel.counter = self._new_counter(source, state)
            windows_data = item.get("windows")
            if (
                channel.windows is not None
                and same_window
                and same_kind
                and isinstance(windows_data, dict)
                and state.last_at is not None
            ):
                channel.windows.restore(windows_data)
        for start, end, energy in item.get("pending") or []:
            channel.pending.append(
                ClosedWindow(
                    datetime.fromisoformat(start), datetime.fromisoformat(end), float(energy)
                )
            )

    # --- helpers -------------------------------------------------------------------------
    def _new_counter(self, source: MetricSource, state: CounterState | None) -> _Counter | None:
        if not source.is_counter:
            return None
        if source.quantity is SourceQuantity.ENERGY:
            semantics = source.semantics or MeterSemantics.TOTAL_INCREASING
            return EnergyMeterCounter(energy_unit(source.unit), semantics, state=state)
        return PowerIntegratingCounter(
            source.unit, source.flow or PowerFlow.POSITIVE, max_gap=self._max_power_gap, state=state
        )

    def _new_windows(self, source: MetricSource) -> WindowAccumulator | None:
        return WindowAccumulator(self._window) if source.is_counter else None

    def _channel(self, metric: str) -> _Channel:
        try:
            return self._channels[metric]
        except KeyError:
            raise ValueError(f"{metric}: no source configured for this metric") from None

    def _start(self, now: datetime) -> None:
        if self._started_at is None:
            self._started_at = now


def _message(
    topic: str,
    kind: TopicKind,
    metric: str,
    telemetry: LifetimeTelemetry | WindowedTelemetry | PowerTelemetry,
) -> OutgoingMessage:
    return OutgoingMessage(
        topic, telemetry.to_payload(), kind, telemetry.envelope.message_id, metric
    )


def _power_factor(unit: str) -> float:
    return 0.001 if unit == "W" else 1.0


def _one_way_kw(source: MetricSource, value: float) -> float:
    """The power of the metric's direction (>= 0) when a signed sensor feeds it."""
    kw = _finite(value, source.metric) * _power_factor(source.unit)
    if source.flow is None:
        return kw
    return max(0.0, kw if source.flow is PowerFlow.POSITIVE else -kw)


def _finite(value: float, metric: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{metric}: reading must be a finite number, got {value!r}")
    return float(value)


def _check_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
