"""Sensors for what the gateway measures and sends: energy counters, SoE, queue health."""

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfPower

from .bess_dispatch_core.gateway.metric_source import SourceQuantity
from .bess_dispatch_core.protocol.metrics import BATTERY_ENERGY_REMAINING, BATTERY_SOE
from .bess_dispatch_core.units import percent_of_capacity
from .entity import BATTERY_DEVICE, GATEWAY_DEVICE, BessDispatchEntity
from .runtime import SiteRuntime
from .telemetry import SiteTelemetry
from .update_listeners import UpdateListeners

GRID_METER_DEVICE = "grid_meter"
PV_DEVICE = "pv"
LOAD_DEVICE = "load"


def device_of(metric: str) -> str:
    """Which device a metric belongs to (by the flow it measures)."""
    if metric.startswith("meter_") or metric == "grid_to_inverter_ac":
        return GRID_METER_DEVICE
    if "load" in metric:
        return LOAD_DEVICE
    if metric.startswith("battery_"):
        return BATTERY_DEVICE
    # solar_* and the shared inverter of a DC-linked site.
    return PV_DEVICE


class _TelemetryEntity(BessDispatchEntity):
    def __init__(
        self, runtime: SiteRuntime, telemetry: SiteTelemetry, key: str, device: str
    ) -> None:
        super().__init__(runtime, key, device)
        self.telemetry = telemetry

    def _update_source(self) -> UpdateListeners:
        # The telemetry only: the runtime's control changes say nothing these entities show.
        return self.telemetry


class MetricEnergySensor(_TelemetryEntity, SensorEntity):
    """The gateway's lifetime counter of one metric: what it reports on the lifetime topic.

    Usable in the Energy dashboard; it keeps counting across meter resets and integrates
    power sensors.
    """

    _attr_device_class = SensorDeviceClass.ENERGY
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_suggested_display_precision = 3

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry, metric: str) -> None:
        super().__init__(runtime, telemetry, metric, device_of(metric))
        self.metric = metric

    @property
    def available(self) -> bool:
        return self.metric not in self.telemetry.pipeline.unavailable_since()

    @property
    def native_value(self) -> float | None:
        return self.telemetry.pipeline.lifetime_kwh(self.metric)


class _LevelSensor(_TelemetryEntity, SensorEntity):
    """The pipeline's latest value of one metric (kW for power, kWh for levels)."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(
        self, runtime: SiteRuntime, telemetry: SiteTelemetry, metric: str, key: str, device: str
    ) -> None:
        super().__init__(runtime, telemetry, key, device)
        self.metric = metric

    @property
    def available(self) -> bool:
        return self.telemetry.pipeline.value(self.metric) is not None

    @property
    def native_value(self) -> float | None:
        return self.telemetry.pipeline.value(self.metric)


class MetricPowerSensor(_LevelSensor):
    """The power a power-measured metric is integrated from (what goes on its /power topic)."""

    _attr_device_class = SensorDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.KILO_WATT
    _attr_suggested_display_precision = 3

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry, metric: str) -> None:
        super().__init__(runtime, telemetry, metric, f"{metric}_power", device_of(metric))
        # One translated name per metric ("Battery charge power (AC)"), not the raw metric key.
        self._attr_translation_key = f"{metric}_power"


class StoredEnergySensor(_LevelSensor):
    """battery_soe or battery_energy_remaining, in kWh."""

    _attr_device_class = SensorDeviceClass.ENERGY_STORAGE
    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_suggested_display_precision = 2

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry, metric: str) -> None:
        super().__init__(runtime, telemetry, metric, metric, BATTERY_DEVICE)


class StateOfChargeSensor(_TelemetryEntity, SensorEntity):
    """SoE as a share of the usable capacity."""

    _attr_device_class = SensorDeviceClass.BATTERY
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_suggested_display_precision = 1

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry) -> None:
        super().__init__(runtime, telemetry, "state_of_charge", BATTERY_DEVICE)

    @property
    def available(self) -> bool:
        return self.telemetry.soe_kwh() is not None

    @property
    def native_value(self) -> float | None:
        soe = self.telemetry.soe_kwh()
        return None if soe is None else percent_of_capacity(soe, self.telemetry.usable_kwh)


class _QueueDiagnostic(_TelemetryEntity, SensorEntity):
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry, key: str) -> None:
        super().__init__(runtime, telemetry, key, GATEWAY_DEVICE)


class LastTelemetrySentSensor(_QueueDiagnostic):
    _attr_device_class = SensorDeviceClass.TIMESTAMP

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry) -> None:
        super().__init__(runtime, telemetry, "last_telemetry_sent")

    @property
    def native_value(self) -> datetime | None:
        return self.telemetry.last_sent


class MessagesQueuedSensor(_QueueDiagnostic):
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry) -> None:
        super().__init__(runtime, telemetry, "messages_queued")

    @property
    def native_value(self) -> int | None:
        stats = self.telemetry.stats()
        return None if stats is None else stats.queued


class MessagesDroppedSensor(_QueueDiagnostic):
    _attr_state_class = SensorStateClass.TOTAL_INCREASING

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry) -> None:
        super().__init__(runtime, telemetry, "messages_dropped")

    @property
    def native_value(self) -> int | None:
        stats = self.telemetry.stats()
        return None if stats is None else stats.dropped.total

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        stats = self.telemetry.stats()
        if stats is None:
            return {}
        return {str(reason): count for reason, count in stats.dropped.by_reason.items()}


class LastFeedbackErrorSensor(_QueueDiagnostic):
    """The optimizer's last TelemetryFeedback error (test/staging brokers send them)."""

    def __init__(self, runtime: SiteRuntime, telemetry: SiteTelemetry) -> None:
        super().__init__(runtime, telemetry, "last_feedback_error")

    @property
    def native_value(self) -> str | None:
        error = self.telemetry.feedback.last_error
        return None if error is None else (error.code or "error")

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return self.telemetry.feedback.to_dict()


def telemetry_sensors(runtime: SiteRuntime, telemetry: SiteTelemetry) -> list[SensorEntity]:
    entities: list[SensorEntity] = [
        LastTelemetrySentSensor(runtime, telemetry),
        MessagesQueuedSensor(runtime, telemetry),
        MessagesDroppedSensor(runtime, telemetry),
        LastFeedbackErrorSensor(runtime, telemetry),
        StateOfChargeSensor(runtime, telemetry),
    ]
    for metric in telemetry.pipeline.metrics:
        if metric in (BATTERY_SOE, BATTERY_ENERGY_REMAINING):
            entities.append(StoredEnergySensor(runtime, telemetry, metric))
        elif metric != "curtailment":
            entities.append(MetricEnergySensor(runtime, telemetry, metric))
            if telemetry.quantities.get(metric) is SourceQuantity.POWER:
                entities.append(MetricPowerSensor(runtime, telemetry, metric))
    return entities
