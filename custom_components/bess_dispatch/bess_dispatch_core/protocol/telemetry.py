"""Telemetry payloads: lifetime counters, windowed energy and instantaneous power/state."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .envelope import Envelope, check_aware
from .timeformat import format_datetime, format_duration
from .wire import encode


class Unit(StrEnum):
    KWH = "kWh"
    KW = "kW"


class Aggregation(StrEnum):
    """How a power value was taken: a snapshot, or the mean over ``aggregation_window``."""

    INSTANT = "instant"
    AVERAGE = "average"


def _check_value(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"measurement value must be a finite number, got {value!r}")


@dataclass(frozen=True, slots=True)
class LifetimeTelemetry:
    """A cumulative energy counter in kWh (``…/{metric}/lifetime``)."""

    envelope: Envelope
    measured_at: datetime
    value: float
    unit: Unit = Unit.KWH

    def __post_init__(self) -> None:
        check_aware(self.measured_at, "measured_at")
        _check_value(self.value)
        if self.unit != Unit.KWH:
            raise ValueError("lifetime telemetry is in kWh")
        object.__setattr__(self, "unit", Unit.KWH)

    @classmethod
    def create(cls, *, value: float, measured_at: datetime, now: datetime) -> LifetimeTelemetry:
        return cls(Envelope.new(now), measured_at, value)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.envelope.to_dict(),
            "measured_at": format_datetime(self.measured_at),
            "measurement_value": {"value": self.value, "unit": self.unit.value},
        }

    def to_payload(self) -> bytes:
        return encode(self.to_dict())


@dataclass(frozen=True, slots=True)
class WindowedTelemetry:
    """Energy in kWh over ``[window_start, window_end)`` (``…/{metric}/energy/{window}``)."""

    envelope: Envelope
    window_start: datetime
    window_end: datetime
    value: float
    unit: Unit = Unit.KWH

    def __post_init__(self) -> None:
        check_aware(self.window_start, "window_start")
        check_aware(self.window_end, "window_end")
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        _check_value(self.value)
        if self.unit != Unit.KWH:
            raise ValueError("windowed telemetry is in kWh")
        object.__setattr__(self, "unit", Unit.KWH)

    @classmethod
    def create(
        cls, *, value: float, window_start: datetime, window_end: datetime, now: datetime
    ) -> WindowedTelemetry:
        return cls(Envelope.new(now), window_start, window_end, value)

    @property
    def window(self) -> timedelta:
        return self.window_end - self.window_start

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.envelope.to_dict(),
            "window_start": format_datetime(self.window_start),
            "window_end": format_datetime(self.window_end),
            "measurement_value": {"value": self.value, "unit": self.unit.value},
        }

    def to_payload(self) -> bytes:
        return encode(self.to_dict())


@dataclass(frozen=True, slots=True)
class PowerTelemetry:
    """An instantaneous reading (``…/{metric}/power``): power in kW, or for state metrics
    (``battery_soe``, ``battery_energy_remaining``) the stored energy in kWh."""

    envelope: Envelope
    measured_at: datetime
    value: float
    unit: Unit = Unit.KW
    aggregation: Aggregation = Aggregation.INSTANT
    aggregation_window: timedelta | None = None

    def __post_init__(self) -> None:
        check_aware(self.measured_at, "measured_at")
        _check_value(self.value)
        object.__setattr__(self, "unit", Unit(self.unit))
        object.__setattr__(self, "aggregation", Aggregation(self.aggregation))
        if self.aggregation is Aggregation.AVERAGE and self.aggregation_window is None:
            raise ValueError("aggregation_window is required when aggregation is average")
        if self.aggregation_window is not None and self.aggregation_window <= timedelta(0):
            raise ValueError("aggregation_window must be positive")

    @classmethod
    def create(
        cls,
        *,
        value: float,
        measured_at: datetime,
        now: datetime,
        unit: Unit = Unit.KW,
        aggregation: Aggregation = Aggregation.INSTANT,
        aggregation_window: timedelta | None = None,
    ) -> PowerTelemetry:
        return cls(Envelope.new(now), measured_at, value, unit, aggregation, aggregation_window)

    def to_dict(self) -> dict[str, Any]:
        measurement: dict[str, Any] = {
            "value": self.value,
            "unit": self.unit.value,
            "aggregation": self.aggregation.value,
        }
        if self.aggregation_window is not None:
            measurement["aggregation_window"] = format_duration(self.aggregation_window)
        return {
            **self.envelope.to_dict(),
            "measured_at": format_datetime(self.measured_at),
            "measurement_value": measurement,
        }

    def to_payload(self) -> bytes:
        return encode(self.to_dict())


type Telemetry = LifetimeTelemetry | WindowedTelemetry | PowerTelemetry
