"""One typed site configuration, read once per config entry from its data and options.

Set-up builds it before anything else and keeps it in ``runtime_data``; the set-up checks,
the actuator, the telemetry, the runtime and the diagnostics take their settings from it
instead of each reading ``entry.data``/``entry.options`` (and each guessing defaults).
Options override data where both can hold a value (the entity sources).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .bess_dispatch_core.gateway.control_law import HardLimits
from .bess_dispatch_core.protocol.metrics import UseCase
from .bess_dispatch_core.protocol.timeformat import parse_duration
from .const import (
    ACTUATOR_MODBUS,
    BROKER_HOME_ASSISTANT,
    CONF_ACTUATOR,
    CONF_ACTUATOR_NUMBER,
    CONF_ACTUATOR_SCRIPT,
    CONF_ACTUATOR_SELECT,
    CONF_BROKER_TYPE,
    CONF_GATEWAY_ID,
    CONF_HAS_LOAD,
    CONF_HOST,
    CONF_MODBUS_HOST,
    CONF_MODBUS_METRICS,
    CONF_MODBUS_PORT,
    CONF_MODBUS_UNIT_ID,
    CONF_SITE_ID,
    CONF_SOURCE_HOST,
    CONF_SOURCE_INTERVAL_S,
    CONF_SOURCE_PORT,
    CONF_SOURCE_TYPE,
    CONF_SOURCE_UNIT_ID,
    CONF_SOURCES,
    CONF_TELEMETRY_INTERVAL_S,
    CONF_TELEMETRY_WINDOW,
    CONF_USABLE_KWH,
    CONF_USE_CASE,
    DEFAULT_TELEMETRY_INTERVAL_S,
    DEFAULT_TELEMETRY_WINDOW,
    SOURCE_MODBUS,
)
from .limits import hard_limits
from .telemetry import ModbusSourceSettings


@dataclass(frozen=True, slots=True, order=True)
class ModbusDevice:
    """A SunSpec device on Modbus TCP."""

    host: str
    port: int
    unit_id: int


@dataclass(frozen=True, slots=True)
class ActuatorConfig:
    """What drives the battery: ``kind`` is the options' actuator choice (none by default)."""

    kind: str | None
    script: str | None = None
    setpoint_number: str | None = None
    mode_select: str | None = None
    modbus: ModbusDevice | None = None


@dataclass(frozen=True, slots=True)
class SiteConfig:
    site_id: str
    gateway_id: str
    use_case: UseCase
    has_load: bool
    usable_kwh: float
    limits: HardLimits
    sources: Mapping[str, str]  # metric -> HA entity id (entity sources)
    modbus_source: ModbusSourceSettings | None
    actuator: ActuatorConfig
    telemetry_interval: timedelta
    telemetry_window: timedelta
    own_broker: bool  # False: Home Assistant's MQTT integration
    broker_host: str  # for messages only ("" with HA's MQTT)

    @classmethod
    def from_entry(cls, data: Mapping[str, Any], options: Mapping[str, Any]) -> SiteConfig:
        return cls(
            site_id=data[CONF_SITE_ID],
            gateway_id=data[CONF_GATEWAY_ID],
            use_case=UseCase(data[CONF_USE_CASE]),
            has_load=bool(data[CONF_HAS_LOAD]),
            usable_kwh=float(data[CONF_USABLE_KWH]),
            limits=hard_limits(data, options),
            sources=options.get(CONF_SOURCES) or data.get(CONF_SOURCES, {}),
            modbus_source=_modbus_source(data),
            actuator=_actuator(options),
            telemetry_interval=timedelta(
                seconds=options.get(CONF_TELEMETRY_INTERVAL_S, DEFAULT_TELEMETRY_INTERVAL_S)
            ),
            telemetry_window=parse_duration(
                options.get(CONF_TELEMETRY_WINDOW, DEFAULT_TELEMETRY_WINDOW)
            ),
            own_broker=data.get(CONF_BROKER_TYPE) != BROKER_HOME_ASSISTANT,
            broker_host=data.get(CONF_HOST) or "",
        )

    @property
    def modbus_devices(self) -> set[ModbusDevice]:
        """The SunSpec source and the Modbus actuator, each once (they may be one device)."""
        devices = set()
        if self.modbus_source is not None:
            source = self.modbus_source
            devices.add(ModbusDevice(source.host, source.port, source.unit_id))
        if self.actuator.modbus is not None:
            devices.add(self.actuator.modbus)
        return devices


def _modbus_source(data: Mapping[str, Any]) -> ModbusSourceSettings | None:
    if data.get(CONF_SOURCE_TYPE) != SOURCE_MODBUS:
        return None
    return ModbusSourceSettings(
        host=data[CONF_SOURCE_HOST],
        port=int(data[CONF_SOURCE_PORT]),
        unit_id=int(data[CONF_SOURCE_UNIT_ID]),
        interval_s=float(data[CONF_SOURCE_INTERVAL_S]),
        metrics=data[CONF_MODBUS_METRICS],
    )


def _actuator(options: Mapping[str, Any]) -> ActuatorConfig:
    kind = options.get(CONF_ACTUATOR)
    modbus = None
    if kind == ACTUATOR_MODBUS:
        modbus = ModbusDevice(
            options[CONF_MODBUS_HOST],
            int(options[CONF_MODBUS_PORT]),
            int(options[CONF_MODBUS_UNIT_ID]),
        )
    return ActuatorConfig(
        kind=kind,
        script=options.get(CONF_ACTUATOR_SCRIPT),
        setpoint_number=options.get(CONF_ACTUATOR_NUMBER),
        mode_select=options.get(CONF_ACTUATOR_SELECT),
        modbus=modbus,
    )
