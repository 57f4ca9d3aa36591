"""SunSpec device over Modbus TCP -> readings for the telemetry pipeline.

:class:`SunSpecPoller` scans the device once (on the first successful connection), then
every ``interval_s`` re-reads only the models its metrics need and hands one reading per
configured metric to ``on_reading`` (None when the device does not answer or does not
implement the point). Failures close the link and retry with exponential backoff; the
availability callback fires once per change, not once per failed poll.

:func:`default_metric_map` proposes which reading (a field of
:class:`~..sunspec.readings.SunSpecReadings`) feeds which protocol metric for a use case;
:func:`metric_sources` says how the pipeline must read each of them (quantity, unit, flow).

What the SunSpec readings cannot provide (the user maps those from other sources):
``solar_generation_dc`` (no PV string / MPPT model is read), the load metrics
(``grid_to_load_ac``, ``load_demand_ac``, ``inverter_to_load_ac``), the split flows
(``solar_to_*``, ``battery_to_*`` except ``battery_to_inverter_dc``, ``grid_to_*``,
``inverter_to_*``) and ``curtailment``. ``battery_energy_remaining`` comes from model 802's
rated capacity ``WHRtg``, which does not include degradation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import UTC, datetime

from ..link.backoff import ExponentialBackoff
from ..protocol.metrics import (
    BATTERY_CHARGE_AC,
    BATTERY_CHARGE_DC,
    BATTERY_DISCHARGE_AC,
    BATTERY_ENERGY_REMAINING,
    BATTERY_SOE,
    BATTERY_TO_INVERTER_DC,
    INVERTER_NET_OUTPUT_AC,
    METER_EXPORT_AC,
    METER_IMPORT_AC,
    SOLAR_NET_GENERATION_AC,
    UseCase,
)
from ..sunspec.decoding import DecodedModel
from ..sunspec.errors import SunSpecError, SunSpecModelChainError
from ..sunspec.modbus_link import ModbusLink
from ..sunspec.readings import SunSpecReadings, readings_from_models
from ..sunspec.scanner import (
    BATTERY_MODEL_ID,
    INVERTER_MODEL_IDS,
    METER_MODEL_IDS,
    STORAGE_MODEL_ID,
    SunSpecDevice,
    refresh_model,
    scan_device,
)
from .energy_counter import MeterSemantics, PowerFlow
from .metric_source import PERCENT, MetricSource, SourceQuantity

_LOGGER = logging.getLogger(__name__)

type ReadingCallback = Callable[[str, float | None, datetime], None]
type AvailabilityCallback = Callable[[bool, str | None], None]

#: Numeric readings a metric can be fed from: quantity, unit and the model families read.
_READINGS: dict[str, tuple[SourceQuantity, str, tuple[tuple[int, ...], ...]]] = {
    "inverter_ac_power_w": (SourceQuantity.POWER, "W", (INVERTER_MODEL_IDS,)),
    "inverter_lifetime_energy_wh": (SourceQuantity.ENERGY, "Wh", (INVERTER_MODEL_IDS,)),
    "inverter_dc_power_w": (SourceQuantity.POWER, "W", (INVERTER_MODEL_IDS,)),
    "grid_power_w": (SourceQuantity.POWER, "W", (METER_MODEL_IDS,)),
    "grid_import_energy_wh": (SourceQuantity.ENERGY, "Wh", (METER_MODEL_IDS,)),
    "grid_export_energy_wh": (SourceQuantity.ENERGY, "Wh", (METER_MODEL_IDS,)),
    # Model 124's ChaState stands in for SoC when there is no model 802.
    "battery_soc_percent": (
        SourceQuantity.SOC_PERCENT,
        PERCENT,
        ((BATTERY_MODEL_ID,), (STORAGE_MODEL_ID,)),
    ),
    "battery_capacity_wh": (SourceQuantity.ENERGY_STATE, "Wh", ((BATTERY_MODEL_ID,),)),
    "battery_stored_energy_wh": (
        SourceQuantity.ENERGY_STATE,
        "Wh",
        ((BATTERY_MODEL_ID,), (STORAGE_MODEL_ID,)),
    ),
    "battery_power_w": (SourceQuantity.POWER, "W", ((BATTERY_MODEL_ID,),)),
}

#: Which direction of a signed power reading each metric counts (readings.py's signs:
#: grid + import, battery + charging).
_FLOWS: dict[tuple[str, str], PowerFlow] = {
    ("grid_power_w", METER_IMPORT_AC): PowerFlow.POSITIVE,
    ("grid_power_w", METER_EXPORT_AC): PowerFlow.NEGATIVE,
    ("battery_power_w", BATTERY_CHARGE_AC): PowerFlow.POSITIVE,
    ("battery_power_w", BATTERY_DISCHARGE_AC): PowerFlow.NEGATIVE,
    ("battery_power_w", BATTERY_CHARGE_DC): PowerFlow.POSITIVE,
    ("battery_power_w", BATTERY_TO_INVERTER_DC): PowerFlow.NEGATIVE,
}

#: Readings that exist but feed no metric (limits, status), named in errors.
_NOT_METRICS = frozenset(f.name for f in fields(SunSpecReadings)) - set(_READINGS)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def reading_names() -> tuple[str, ...]:
    """Readings a metric can be mapped to."""
    return tuple(_READINGS)


def metric_sources(metrics: Mapping[str, str]) -> list[MetricSource]:
    """How the pipeline reads each metric of ``metrics`` (protocol metric -> reading name).

    ValueError names the metric whose reading is unknown or cannot feed it."""
    sources: list[MetricSource] = []
    for name, reading in metrics.items():
        quantity, unit, _ = _reading(name, reading)
        semantics = MeterSemantics.TOTAL_INCREASING if quantity is SourceQuantity.ENERGY else None
        flow = _FLOWS.get((reading, name))
        sources.append(MetricSource(name, quantity, unit, semantics=semantics, flow=flow))
    return sources


def default_metric_map(device: SunSpecDevice, use_case: UseCase | str) -> dict[str, str]:
    """The readings this device provides for the use case's metrics (protocol metric ->
    reading name). Lifetime counters are preferred to integrated power. Metrics the device
    cannot measure are left out: compare with ``required_metrics`` to see what is missing."""
    use_case = UseCase(use_case)
    available = {
        name
        for name, value in _as_dict(_readings_of(device.models)).items()
        if value is not None and name in _READINGS
    }

    def first(*candidates: str) -> str | None:
        return next((c for c in candidates if c in available), None)

    proposals: dict[str, str | None] = {
        METER_IMPORT_AC: first("grid_import_energy_wh", "grid_power_w"),
        METER_EXPORT_AC: first("grid_export_energy_wh", "grid_power_w"),
        BATTERY_SOE: first("battery_soc_percent", "battery_stored_energy_wh"),
        BATTERY_ENERGY_REMAINING: first("battery_capacity_wh"),
    }
    match use_case:
        case UseCase.AC_LINK:
            proposals[SOLAR_NET_GENERATION_AC] = first(
                "inverter_lifetime_energy_wh", "inverter_ac_power_w"
            )
            proposals[BATTERY_CHARGE_AC] = first("battery_power_w")
            proposals[BATTERY_DISCHARGE_AC] = first("battery_power_w")
        case UseCase.DC_LINK:
            proposals[INVERTER_NET_OUTPUT_AC] = first(
                "inverter_lifetime_energy_wh", "inverter_ac_power_w"
            )
            proposals[BATTERY_CHARGE_DC] = first("battery_power_w")
            proposals[BATTERY_TO_INVERTER_DC] = first("battery_power_w")
        case UseCase.STANDALONE:
            pass
    return {name: reading for name, reading in proposals.items() if reading is not None}


class SunSpecPoller:
    """Polls one SunSpec device and reports a reading per configured metric.

    Lifecycle: ``await start()`` (returns at once; connecting and scanning happen in the
    background task), ``await stop()`` (cancels the task, closes the link). ``poll_once``
    is the single step the task repeats; tests and a "refresh now" action may call it
    directly when the poller is not started.
    """

    def __init__(
        self,
        link: ModbusLink,
        *,
        metrics: Mapping[str, str],
        interval_s: float,
        on_reading: ReadingCallback,
        on_availability: AvailabilityCallback | None = None,
        clock: Callable[[], datetime] = _utc_now,
        max_retry_s: float = 60.0,
    ) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0 seconds, got {interval_s!r}")
        if not metrics:
            raise ValueError("metrics: map at least one metric to a reading")
        for name, reading in metrics.items():
            _reading(name, reading)
        self._link = link
        self._metrics = dict(metrics)
        self._interval_s = float(interval_s)
        self._on_reading = on_reading
        self._on_availability = on_availability
        self._clock = clock
        self._backoff = ExponentialBackoff(
            initial=self._interval_s, maximum=max(max_retry_s, self._interval_s)
        )
        self._device: SunSpecDevice | None = None
        self._available: bool | None = None
        self._task: asyncio.Task[None] | None = None
        # A "refresh now" poll must not interleave its requests with the task's.
        self._lock = asyncio.Lock()
        self._families = {
            family for reading in self._metrics.values() for family in _READINGS[reading][2]
        }

    @property
    def device(self) -> SunSpecDevice | None:
        """What the scan found (None before the first successful connection)."""
        return self._device

    @property
    def available(self) -> bool | None:
        """Whether the last poll succeeded (None before the first poll)."""
        return self._available

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"sunspec poller {self._link.where}"
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._link.close()

    async def poll_once(self, now: datetime) -> bool:
        """One poll at ``now``: connect/scan if needed, read, report every metric. Returns
        whether the device answered; on failure every metric is reported as None."""
        try:
            async with self._lock:
                readings = await self._read()
        except SunSpecError as error:
            self._link.close()
            if isinstance(error, SunSpecModelChainError):
                self._device = None  # the map changed: scan again after reconnecting
            self._report_all(None, now)
            self._set_available(False, str(error))
            return False
        values = _as_dict(readings)
        self._set_available(True, None)
        for name, reading in self._metrics.items():
            self._on_reading(name, values[reading], now)
        return True

    async def _read(self) -> SunSpecReadings:
        if not self._link.connected:
            await self._link.connect()
        device = self._device
        if device is None:
            device = self._device = await scan_device(self._link)
        models: list[DecodedModel] = []
        for family in self._families:
            model = device.find(family)
            if model is not None:
                models.append(await refresh_model(self._link, model))
        return _readings_of(models)

    async def _run(self) -> None:
        while True:
            try:
                ok = await self.poll_once(self._clock())
            except Exception:
                # A failing callback must not end the polling for good.
                _LOGGER.exception("SunSpec poll of %s failed", self._link.where)
                ok = False
            if ok:
                self._backoff.reset()
                delay = self._interval_s
            else:
                # Full jitter may pick ~0: never retry faster than a tenth of the interval.
                delay = max(self._backoff.next_delay(), self._interval_s / 10)
            await asyncio.sleep(delay)

    def _report_all(self, value: float | None, now: datetime) -> None:
        for name in self._metrics:
            self._on_reading(name, value, now)

    def _set_available(self, available: bool, reason: str | None) -> None:
        if self._available is available:
            return
        self._available = available
        if available:
            _LOGGER.info("SunSpec device %s is available", self._link.where)
        else:
            _LOGGER.warning("SunSpec device %s is unavailable: %s", self._link.where, reason)
        if self._on_availability is not None:
            self._on_availability(available, reason)


def _reading(
    metric_name: str, reading: str
) -> tuple[SourceQuantity, str, tuple[tuple[int, ...], ...]]:
    try:
        quantity, unit, families = _READINGS[reading]
    except KeyError:
        why = "is not a number the gateway can count" if reading in _NOT_METRICS else "is unknown"
        raise ValueError(
            f"{metric_name}: reading {reading!r} {why}; use one of {', '.join(_READINGS)}"
        ) from None
    # MetricSource checks metric name / quantity / unit compatibility and names the metric.
    MetricSource(
        metric_name,
        quantity,
        unit,
        semantics=MeterSemantics.TOTAL_INCREASING if quantity is SourceQuantity.ENERGY else None,
        flow=_FLOWS.get((reading, metric_name)),
    )
    return quantity, unit, families


def _readings_of(models: Iterable[DecodedModel]) -> SunSpecReadings:
    return readings_from_models(list(models))


def _as_dict(readings: SunSpecReadings) -> dict[str, float | None]:
    """The numeric readings by field name (status text left out)."""
    return {name: getattr(readings, name) for name in _READINGS}
