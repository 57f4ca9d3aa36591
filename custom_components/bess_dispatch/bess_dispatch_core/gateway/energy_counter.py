"""Lifetime kWh counters built from a stream of sensor readings.

Two sources, one output: a monotonic lifetime counter in kWh, what the ``…/lifetime`` topic
carries and what windowed energy is derived from.

:class:`EnergyMeterCounter` (energy sensors, Wh/kWh/MWh)
    - The first reading is the baseline: energy is counted from then on (a restored
      ``lifetime_kwh`` continues where it stopped).
    - ``total_increasing``: a rise adds the difference. A fall by more than ``noise_kwh``
      is a meter reset; the new value is the energy since the reset and is added, so the
      energy measured after the reset is not lost. A smaller fall is noise: the highest
      value stays the baseline, so the dip is not counted twice.
    - ``total``: the value may fall (corrections); only rises above the highest value since
      the last reset count. A changed ``last_reset`` starts a new cycle like a meter reset.
    - Unavailable readings (None) pause the counter; the meter kept counting meanwhile, so
      the next reading's difference includes the energy of the gap.

:class:`PowerIntegratingCounter` (power sensors, W/kW)
    - Trapezoid rule between consecutive readings, counting only the chosen flow direction
      (the positive or the negative part, split exactly where the line crosses zero).
    - A gap longer than ``max_gap`` or an unavailable reading is *not* bridged: the energy
      of the gap is unknown, so nothing is added for it and the next reading starts a new
      segment. Under-reporting a gap beats inventing energy; the caller raises a "source
      unavailable" alert. Sensors that report only on change must therefore be re-sampled
      by the caller (feed the current value at least every ``max_gap``).
    - Readings with a timestamp at or before the previous one are ignored.

Both keep their state in a :class:`CounterState` the integration persists across restarts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class EnergyUnit(StrEnum):
    WH = "Wh"
    KWH = "kWh"
    MWH = "MWh"


class PowerUnit(StrEnum):
    W = "W"
    KW = "kW"


class MeterSemantics(StrEnum):
    """Home Assistant's ``state_class`` of the energy sensor."""

    TOTAL = "total"
    TOTAL_INCREASING = "total_increasing"


class PowerFlow(StrEnum):
    """Which sign of a power reading a counter accumulates (e.g. import vs export)."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


_KWH_PER_UNIT = {EnergyUnit.WH: 0.001, EnergyUnit.KWH: 1.0, EnergyUnit.MWH: 1000.0}
_KW_PER_UNIT = {PowerUnit.W: 0.001, PowerUnit.KW: 1.0}


def energy_unit(text: str) -> EnergyUnit:
    """Parse an energy unit; a clear error names the accepted ones."""
    try:
        return EnergyUnit(text)
    except ValueError:
        accepted = ", ".join(u.value for u in EnergyUnit)
        raise ValueError(f"unit {text!r} is not an energy unit ({accepted})") from None


def power_unit(text: str) -> PowerUnit:
    try:
        return PowerUnit(text)
    except ValueError:
        accepted = ", ".join(u.value for u in PowerUnit)
        raise ValueError(f"unit {text!r} is not a power unit ({accepted})") from None


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class CounterState:
    """What a counter needs to continue after a restart (JSON-friendly via to/from_dict)."""

    lifetime_kwh: float = 0.0
    last_value: float | None = None
    """Energy counters: the baseline reading in kWh; power counters: the last power in kW."""
    last_at: datetime | None = None
    last_reset: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lifetime_kwh": self.lifetime_kwh,
            "last_value": self.last_value,
            "last_at": None if self.last_at is None else self.last_at.isoformat(),
            "last_reset": None if self.last_reset is None else self.last_reset.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CounterState:
        def when(key: str) -> datetime | None:
            text = data.get(key)
            return None if text is None else datetime.fromisoformat(str(text))

        last_value = data.get("last_value")
        return cls(
            lifetime_kwh=_finite(data.get("lifetime_kwh", 0.0), "lifetime_kwh"),
            last_value=None if last_value is None else _finite(last_value, "last_value"),
            last_at=when("last_at"),
            last_reset=when("last_reset"),
        )


def _check_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("reading time must be timezone-aware")


class EnergyMeterCounter:
    """Lifetime kWh from an energy sensor; see the module docstring for the rules."""

    def __init__(
        self,
        unit: EnergyUnit | str,
        semantics: MeterSemantics | str = MeterSemantics.TOTAL_INCREASING,
        *,
        state: CounterState | None = None,
        noise_kwh: float = 0.001,
    ) -> None:
        self._factor = _KWH_PER_UNIT[energy_unit(str(unit))]
        self._semantics = MeterSemantics(semantics)
        self._noise = noise_kwh
        state = state or CounterState()
        self._lifetime = state.lifetime_kwh
        self._baseline = state.last_value  # kWh, highest reading since the last reset
        self._last_reset = state.last_reset
        self._last_at = state.last_at
        self.resets = 0

    @property
    def lifetime_kwh(self) -> float:
        return self._lifetime

    @property
    def state(self) -> CounterState:
        return CounterState(self._lifetime, self._baseline, self._last_at, self._last_reset)

    def update(
        self, value: float | None, at: datetime, *, last_reset: datetime | None = None
    ) -> float:
        """Feed one reading (None = unavailable); returns the lifetime kWh."""
        _check_aware(at)
        if value is None:
            return self._lifetime
        kwh = _finite(value, "value") * self._factor
        self._last_at = at
        new_cycle = (
            self._semantics is MeterSemantics.TOTAL
            and last_reset is not None
            and last_reset != self._last_reset
            and self._last_reset is not None
        )
        if last_reset is not None:
            self._last_reset = last_reset
        if self._baseline is None:
            self._baseline = kwh
            return self._lifetime
        if new_cycle:
            self._reset_to(kwh)
        elif kwh >= self._baseline:
            self._lifetime += kwh - self._baseline
            self._baseline = kwh
        elif (
            self._semantics is MeterSemantics.TOTAL_INCREASING
            and self._baseline - kwh > self._noise
        ):
            self._reset_to(kwh)
        # Otherwise: a dip (noise or a correction of a ``total``): keep the high baseline.
        return self._lifetime

    def _reset_to(self, kwh: float) -> None:
        # A fresh cycle starts at zero: what the meter shows now was measured after the reset.
        self.resets += 1
        self._lifetime += max(kwh, 0.0)
        self._baseline = kwh


def _flow_area(p0: float, p1: float, hours: float) -> float:
    """Trapezoid area of the positive part of a line from p0 to p1 over ``hours``."""
    if p0 >= 0 and p1 >= 0:
        return (p0 + p1) / 2 * hours
    if p0 <= 0 and p1 <= 0:
        return 0.0
    # The line crosses zero: only the triangle on the positive side counts.
    positive, negative = (p0, p1) if p0 > 0 else (p1, p0)
    return positive / 2 * hours * positive / (positive - negative)


class PowerIntegratingCounter:
    """Lifetime kWh integrated from a power sensor; see the module docstring for the rules."""

    def __init__(
        self,
        unit: PowerUnit | str,
        flow: PowerFlow | str = PowerFlow.POSITIVE,
        *,
        max_gap: timedelta = timedelta(minutes=5),
        state: CounterState | None = None,
    ) -> None:
        if max_gap <= timedelta(0):
            raise ValueError(f"max_gap must be positive, got {max_gap}")
        self._factor = _KW_PER_UNIT[power_unit(str(unit))]
        self._sign = 1.0 if PowerFlow(flow) is PowerFlow.POSITIVE else -1.0
        self._max_gap = max_gap
        state = state or CounterState()
        self._lifetime = state.lifetime_kwh
        self._last_kw = state.last_value
        self._last_at = state.last_at
        self.gaps = 0

    @property
    def lifetime_kwh(self) -> float:
        return self._lifetime

    @property
    def state(self) -> CounterState:
        return CounterState(self._lifetime, self._last_kw, self._last_at)

    def update(self, value: float | None, at: datetime) -> float:
        """Feed one reading (None = unavailable); returns the lifetime kWh."""
        _check_aware(at)
        if value is None:
            # Unknown from here on: the next reading starts a new segment.
            if self._last_kw is not None:
                self.gaps += 1
            self._last_kw = None
            self._last_at = at
            return self._lifetime
        kw = _finite(value, "value") * self._factor
        if self._last_at is not None and at <= self._last_at:
            return self._lifetime
        if self._last_kw is not None and self._last_at is not None:
            elapsed = at - self._last_at
            if elapsed > self._max_gap:
                self.gaps += 1
            else:
                hours = elapsed.total_seconds() / 3600.0
                self._lifetime += _flow_area(self._sign * self._last_kw, self._sign * kw, hours)
        self._last_kw = kw
        self._last_at = at
        return self._lifetime
