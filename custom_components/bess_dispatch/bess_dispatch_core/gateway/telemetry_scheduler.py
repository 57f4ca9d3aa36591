"""When to publish each metric: its own cadence, pure (the caller passes the time).

Rules (docs/protocol.md, "Telemetry"):

- every metric on its own timer, default every minute, at most every 10 minutes;
- ``battery_energy_remaining`` at least daily (default hourly);
- ``curtailment`` when its value changes, plus a daily heartbeat;
- every metric is due once at start, then on its interval's grid (aligned to ``origin``,
  the Unix epoch by default, so a 1-minute cadence fires at whole minutes and restarts do
  not shift it). After a pause (e.g. the host slept) a metric fires once, not once per
  missed interval.

The caller asks :meth:`TelemetryScheduler.due` what to send now and arms one timer for
:meth:`TelemetryScheduler.next_due`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..protocol.metrics import BATTERY_ENERGY_REMAINING, CURTAILMENT

DEFAULT_INTERVAL = timedelta(minutes=1)
MAX_INTERVAL = timedelta(minutes=10)
DAILY = timedelta(days=1)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SLOW_METRICS = {BATTERY_ENERGY_REMAINING: timedelta(hours=1), CURTAILMENT: DAILY}


def max_interval(metric: str) -> timedelta:
    """The longest cadence the protocol allows for ``metric``."""
    return DAILY if metric in _SLOW_METRICS else MAX_INTERVAL


@dataclass(frozen=True, slots=True)
class MetricCadence:
    """How often ``metric`` is sent; ``on_change`` also sends it as soon as its value changes."""

    metric: str
    interval: timedelta = DEFAULT_INTERVAL
    on_change: bool = False

    def __post_init__(self) -> None:
        if not self.metric:
            raise ValueError("metric must be a non-empty name")
        if self.interval <= timedelta(0):
            raise ValueError(f"interval of {self.metric} must be positive, got {self.interval}")
        limit = max_interval(self.metric)
        if self.interval > limit:
            raise ValueError(
                f"interval of {self.metric} must be at most {limit}, got {self.interval}"
            )

    @classmethod
    def default(cls, metric: str, interval: timedelta = DEFAULT_INTERVAL) -> MetricCadence:
        """The protocol's default for ``metric``; ``interval`` applies to the regular ones."""
        if metric == CURTAILMENT:
            return cls(metric, DAILY, on_change=True)
        return cls(metric, _SLOW_METRICS.get(metric, interval))


class TelemetryScheduler:
    """Per-metric due times; ``due(now)`` returns what to send and moves each timer on."""

    def __init__(
        self, cadences: Iterable[MetricCadence], *, now: datetime, origin: datetime = _EPOCH
    ) -> None:
        _check_aware(now, "now")
        _check_aware(origin, "origin")
        self._cadences: dict[str, MetricCadence] = {}
        for cadence in cadences:
            if cadence.metric in self._cadences:
                raise ValueError(f"metric {cadence.metric} has two cadences")
            self._cadences[cadence.metric] = cadence
        self._origin = origin
        self._next: dict[str, datetime] = dict.fromkeys(self._cadences, now)
        self._last_value: dict[str, object] = {}
        self._changed: dict[str, datetime] = {}  # on-change metrics waiting, since when

    @property
    def metrics(self) -> list[str]:
        return list(self._cadences)

    def observe(self, metric: str, value: object, now: datetime) -> bool:
        """Record the current value of an on-change metric; True when that makes it due."""
        _check_aware(now, "now")
        cadence = self._cadence(metric)
        if not cadence.on_change:
            return False
        if metric in self._last_value and self._last_value[metric] == value:
            return False
        first = metric not in self._last_value
        self._last_value[metric] = value
        if first:
            return False  # the first value goes out with the start-up emission
        self._changed.setdefault(metric, now)
        return True

    def due(self, now: datetime) -> list[str]:
        """Metrics to send now (earliest due first); their timers move to the next slot."""
        _check_aware(now, "now")
        since = {m: at for m, at in self._next.items() if at <= now}
        for metric, changed_at in self._changed.items():
            since[metric] = min(changed_at, since.get(metric, changed_at))
        ready = sorted(since, key=lambda m: (since[m], m))
        for metric in ready:
            self._next[metric] = self._following_slot(metric, now)
            self._changed.pop(metric, None)
        return ready

    def next_due(self) -> datetime | None:
        """When the earliest metric falls due (a pending change is due at once)."""
        candidates = [*self._next.values(), *self._changed.values()]
        return min(candidates) if candidates else None

    def _following_slot(self, metric: str, now: datetime) -> datetime:
        interval = self._cadences[metric].interval
        slots = (now - self._origin) // interval + 1
        return self._origin + slots * interval

    def _cadence(self, metric: str) -> MetricCadence:
        try:
            return self._cadences[metric]
        except KeyError:
            raise ValueError(f"metric {metric} has no cadence") from None


def _check_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
