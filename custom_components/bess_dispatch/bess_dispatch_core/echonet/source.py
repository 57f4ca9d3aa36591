"""An ECHONET Lite node -> readings for the telemetry pipeline.

:class:`EchonetPoller` probes the node once (objects and property maps), then every
``interval_s`` reads, per object, only the properties its metrics need and hands one
reading per configured metric to ``on_reading``: None when the node does not answer,
refuses the property or sends a no-data code (nothing is invented). A node that stops
answering is reported unavailable once, probed afresh and retried with exponential
backoff; it is reported available again at its first answer.

:func:`default_metric_map` proposes which reading (:data:`.readings.READINGS`) feeds which
protocol metric, from what the node's get maps offer; :func:`readable_metric_map` keeps of
those only what the node really answers, which the config flow checks against the use
case's required metrics. :func:`metric_sources` says how the pipeline reads each metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ..gateway.energy_counter import MeterSemantics, PowerFlow
from ..gateway.metric_source import MetricSource, SourceQuantity
from ..link.backoff import ExponentialBackoff
from ..protocol.metrics import (
    BATTERY_CHARGE_AC,
    BATTERY_CHARGE_DC,
    BATTERY_DISCHARGE_AC,
    BATTERY_ENERGY_REMAINING,
    BATTERY_SOE,
    BATTERY_TO_INVERTER_DC,
    GRID_TO_INVERTER_AC,
    INVERTER_NET_OUTPUT_AC,
    METER_EXPORT_AC,
    METER_IMPORT_AC,
    SOLAR_GENERATION_DC,
    SOLAR_NET_GENERATION_AC,
    UseCase,
)
from .client import EchonetClient
from .errors import EchonetError, EchonetTimeoutError
from .node import EchonetNode
from .objects import EchonetClass
from .readings import READINGS, decode_readings

_LOGGER = logging.getLogger(__name__)

type ReadingCallback = Callable[[str, float | None, datetime], None]
type AvailabilityCallback = Callable[[bool, str | None], None]

#: Which direction of a signed power reading each metric counts (battery + charging,
#: meter + import).
_FLOWS: dict[tuple[str, str], PowerFlow] = {
    ("grid_power_w", METER_IMPORT_AC): PowerFlow.POSITIVE,
    ("grid_power_w", METER_EXPORT_AC): PowerFlow.NEGATIVE,
    ("battery_power_w", BATTERY_CHARGE_AC): PowerFlow.POSITIVE,
    ("battery_power_w", BATTERY_DISCHARGE_AC): PowerFlow.NEGATIVE,
    ("battery_power_w", BATTERY_CHARGE_DC): PowerFlow.POSITIVE,
    ("battery_power_w", BATTERY_TO_INVERTER_DC): PowerFlow.NEGATIVE,
}

#: Readings each metric may come from, best first (counters before integrated power).
_CANDIDATES: dict[UseCase | None, dict[str, tuple[str, ...]]] = {
    None: {
        METER_IMPORT_AC: ("grid_import_kwh", "grid_power_w"),
        METER_EXPORT_AC: ("grid_export_kwh", "grid_power_w"),
        BATTERY_SOE: ("battery_soc_percent", "battery_stored_energy_wh"),
        BATTERY_ENERGY_REMAINING: ("battery_effective_capacity_wh", "battery_rated_energy_wh"),
    },
    UseCase.AC_LINK: {
        SOLAR_NET_GENERATION_AC: ("solar_generated_kwh", "solar_power_w"),
        BATTERY_CHARGE_AC: ("battery_ac_charged_kwh", "battery_charged_kwh", "battery_power_w"),
        BATTERY_DISCHARGE_AC: (
            "battery_ac_discharged_kwh",
            "battery_discharged_kwh",
            "battery_power_w",
        ),
    },
    UseCase.DC_LINK: {
        SOLAR_GENERATION_DC: ("solar_generated_kwh", "solar_power_w"),
        BATTERY_CHARGE_DC: ("battery_charged_kwh", "battery_power_w"),
        BATTERY_TO_INVERTER_DC: ("battery_discharged_kwh", "battery_power_w"),
        INVERTER_NET_OUTPUT_AC: ("pcs_output_kwh",),
        GRID_TO_INVERTER_AC: ("pcs_input_kwh",),
    },
    UseCase.STANDALONE: {},
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def metric_source(metric_name: str, reading: str) -> MetricSource:
    """How the pipeline reads ``metric_name`` from ``reading``; ValueError names the metric."""
    try:
        spec = READINGS[reading]
    except KeyError:
        raise ValueError(
            f"{metric_name}: ECHONET Lite reading {reading!r} is unknown; "
            f"use one of {', '.join(READINGS)}"
        ) from None
    semantics = MeterSemantics.TOTAL_INCREASING if spec.quantity is SourceQuantity.ENERGY else None
    return MetricSource(
        metric_name,
        spec.quantity,
        spec.unit,
        semantics=semantics,
        flow=_FLOWS.get((reading, metric_name)),
    )


def metric_sources(metrics: Mapping[str, str]) -> list[MetricSource]:
    """How the pipeline reads each metric of ``metrics`` (protocol metric -> reading)."""
    return [metric_source(name, reading) for name, reading in metrics.items()]


def offered_readings(node: EchonetNode) -> set[str]:
    """Readings whose properties the node's get maps list."""
    offered: set[str] = set()
    for name, spec in READINGS.items():
        maps = node.find(spec.echonet_class)
        if maps is not None and set(spec.epcs) <= maps.get_map:
            offered.add(name)
    return offered


def default_metric_map(
    node: EchonetNode, use_case: UseCase | str, available: set[str] | None = None
) -> dict[str, str]:
    """The readings (of ``available``, default: what the get maps offer) proposed for the
    use case's metrics (protocol metric -> reading). Metrics the node cannot measure are
    left out: compare with ``required_metrics`` to see what is missing."""
    use_case = UseCase(use_case)
    usable = offered_readings(node) if available is None else available
    proposals = {**_CANDIDATES[None], **_CANDIDATES[use_case]}
    chosen: dict[str, str] = {}
    for name, candidates in proposals.items():
        reading = next((c for c in candidates if c in usable), None)
        if reading is not None:
            chosen[name] = reading
    return chosen


async def read_node(
    client: EchonetClient, node: EchonetNode, readings: set[str] | list[str]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """(reading -> value or None, reading -> why none) of ``readings``, one Get per object.

    :class:`EchonetTimeoutError` when an object does not answer at all."""
    names = sorted(set(readings))
    by_class: dict[EchonetClass, set[int]] = {}
    for name in names:
        spec = READINGS[name]
        maps = node.find(spec.echonet_class)
        if maps is None:
            continue
        wanted = by_class.setdefault(spec.echonet_class, set())
        wanted.update(spec.epcs)
        wanted.update(epc for epc in spec.optional_epcs if epc in maps.get_map)
    properties: dict[EchonetClass, dict[int, bytes]] = {}
    for echonet_class, epcs in sorted(by_class.items()):
        maps = node.find(echonet_class)
        assert maps is not None
        properties[echonet_class] = await client.get(node.host, maps.obj, tuple(sorted(epcs)))
    return decode_readings(names, properties)


async def readable_metric_map(
    client: EchonetClient, host: str, use_case: UseCase | str
) -> tuple[EchonetNode, dict[str, str], dict[str, str]]:
    """(node, metric -> reading, reading -> why unreadable): the proposals the node really
    answers now. EchonetError when the node cannot be probed or read."""
    node = await client.probe(host)
    offered = offered_readings(node)
    values, problems = await read_node(client, node, offered)
    readable = {name for name, value in values.items() if value is not None}
    return node, default_metric_map(node, use_case, readable), problems


class EchonetPoller:
    """Polls one ECHONET Lite node and reports a reading per configured metric.

    Lifecycle: ``await start()`` (returns at once; probing happens in the background task),
    ``await stop()``. ``poll_once`` is the single step the task repeats; tests may call it
    directly when the poller is not started.
    """

    def __init__(
        self,
        client: EchonetClient,
        host: str,
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
        metric_sources(metrics)  # ValueError naming a metric whose reading cannot feed it
        self._client = client
        self.host = host
        self._metrics = dict(metrics)
        self._interval_s = float(interval_s)
        self._on_reading = on_reading
        self._on_availability = on_availability
        self._clock = clock
        self._backoff = ExponentialBackoff(
            initial=self._interval_s, maximum=max(max_retry_s, self._interval_s)
        )
        self._node: EchonetNode | None = None
        self._available: bool | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_problems: dict[str, str] = {}

    @property
    def node(self) -> EchonetNode | None:
        """What the probe found (None before the first answer, and after a silence)."""
        return self._node

    @property
    def available(self) -> bool | None:
        return self._available

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"echonet poller {self.host}"
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def poll_once(self, now: datetime) -> bool:
        """One poll at ``now``. Returns whether the node answered; when it did not, every
        metric is reported as None."""
        try:
            node = self._node
            if node is None:
                node = self._node = await self._client.probe(self.host)
            values, problems = await read_node(self._client, node, list(self._metrics.values()))
        except EchonetError as error:
            if isinstance(error, EchonetTimeoutError):
                self._node = None  # probe again when it is back: its objects may differ
            for name in self._metrics:
                self._on_reading(name, None, now)
            self._set_available(False, str(error))
            return False
        self._set_available(True, None)
        if problems != self.last_problems:
            for reading, why in sorted(problems.items()):
                _LOGGER.warning("ECHONET Lite node %s: no %s: %s", self.host, reading, why)
        self.last_problems = problems
        for name, reading in self._metrics.items():
            self._on_reading(name, values[reading], now)
        return True

    async def _run(self) -> None:
        while True:
            try:
                ok = await self.poll_once(self._clock())
            except Exception:
                # A failing callback must not end the polling for good.
                _LOGGER.exception("ECHONET Lite poll of %s failed", self.host)
                ok = False
            if ok:
                self._backoff.reset()
                delay = self._interval_s
            else:
                delay = max(self._backoff.next_delay(), self._interval_s / 10)
            await asyncio.sleep(delay)

    def _set_available(self, available: bool, reason: str | None) -> None:
        if self._available is available:
            return
        self._available = available
        if available:
            _LOGGER.info("ECHONET Lite node %s is available", self.host)
        else:
            _LOGGER.warning("ECHONET Lite node %s is unavailable: %s", self.host, reason)
        if self._on_availability is not None:
            self._on_availability(available, reason)
