"""Pleevi measurements of every asset, read from the gateway's telemetry pipeline.

The pipeline keeps the lifetime counters (meter resets, power integration, persistence);
this turns them into Pleevi's units. ``powerValue`` is the source's power where the metric
is measured as power, else the average power since the previous measurement from the
lifetime counter; an asset's first measurement therefore waits for its second reading. An
asset with a source unavailable sends nothing (no stale value), as in the protocol profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..protocol.metrics import BATTERY_SOE
from ..units import percent_of_capacity
from .assets import AssetFlows, AssetKind, asset_flows
from .measurement import PleeviMeasurement
from .topic import PleeviTopicTemplate


class TelemetryReadings(Protocol):
    """What the measurer reads from :class:`TelemetryPipeline`."""

    @property
    def metrics(self) -> list[str]: ...

    def lifetime_kwh(self, metric: str) -> float | None: ...

    def value(self, metric: str) -> float | None: ...

    def unavailable_since(self) -> dict[str, datetime]: ...


@dataclass(frozen=True, slots=True)
class PleeviMessage:
    topic: str
    measurement: PleeviMeasurement
    qos: int = 1  # at least once, as the protocol's telemetry

    @property
    def payload(self) -> bytes:
        return self.measurement.to_payload()


class PleeviMeasurer:
    """Builds one measurement per asset per call; keeps the previous counters for power."""

    def __init__(
        self,
        *,
        site_id: str,
        asset_ids: Mapping[AssetKind, str],
        capacity_kwh: float,
        topic_template: PleeviTopicTemplate | None = None,
    ) -> None:
        if not capacity_kwh > 0:
            raise ValueError(f"capacity_kwh must be > 0, got {capacity_kwh!r}")
        self._site_id = site_id
        self._asset_ids = dict(asset_ids)
        self._capacity_kwh = float(capacity_kwh)
        self._template = topic_template or PleeviTopicTemplate()
        for asset_id in self._asset_ids.values():
            self._template.build(site_id, asset_id)  # names a bad id now, not at send time
        # (asset, metric) -> previous lifetime and when (a stand-alone meter feeds two assets).
        self._previous: dict[tuple[str, str], tuple[float, datetime]] = {}
        self._last_kw: dict[tuple[str, str], float] = {}

    def measure(self, readings: TelemetryReadings, now: datetime) -> list[PleeviMessage]:
        metrics = frozenset(readings.metrics)
        unavailable = readings.unavailable_since()
        messages: list[PleeviMessage] = []
        for kind, asset_id in self._asset_ids.items():
            flows = asset_flows(kind, metrics)
            if flows is None:
                continue
            used = [flows.positive] + ([flows.negative] if flows.negative else [])
            if kind is AssetKind.BATTERY and BATTERY_SOE in metrics:
                used.append(BATTERY_SOE)
            if any(name in unavailable for name in used):
                continue
            measurement = self._measure(readings, kind, asset_id, flows, now)
            if measurement is not None:
                topic = self._template.build(self._site_id, asset_id)
                messages.append(PleeviMessage(topic, measurement))
        return messages

    def _measure(
        self,
        readings: TelemetryReadings,
        kind: AssetKind,
        asset_id: str,
        flows: AssetFlows,
        now: datetime,
    ) -> PleeviMeasurement | None:
        energy_kwh = readings.lifetime_kwh(flows.positive)
        if energy_kwh is None:
            return None
        power = self._power_kw(readings, asset_id, flows.positive, now)
        if flows.negative is not None:
            opposite = self._power_kw(readings, asset_id, flows.negative, now)
            power = None if power is None or opposite is None else power - opposite
        if power is None:
            return None
        soc = None
        if kind is AssetKind.BATTERY:
            soe = readings.value(BATTERY_SOE) if BATTERY_SOE in readings.metrics else None
            if soe is None:
                return None
            # A reading a little above the configured capacity is real; Pleevi caps at 100 %.
            soc = min(100.0, max(0.0, percent_of_capacity(soe, self._capacity_kwh)))
        return PleeviMeasurement(asset_id, now, energy_kwh * 1000.0, power * 1000.0, soc)

    def _power_kw(
        self, readings: TelemetryReadings, asset_id: str, metric: str, now: datetime
    ) -> float | None:
        lifetime = readings.lifetime_kwh(metric)
        if lifetime is None:
            return None
        measured = readings.value(metric)
        if measured is not None:  # a power source: its own reading
            return measured
        key = (asset_id, metric)
        previous = self._previous.get(key)
        if previous is not None and now <= previous[1]:
            # No time since the last measurement (publish_now right after a send): the
            # power is still the last one computed.
            return self._last_kw.get(key)
        self._previous[key] = (lifetime, now)
        if previous is None:
            return None
        hours = (now - previous[1]).total_seconds() / 3600.0
        self._last_kw[key] = max(0.0, lifetime - previous[0]) / hours
        return self._last_kw[key]
