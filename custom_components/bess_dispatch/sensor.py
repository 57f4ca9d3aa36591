"""Control sensors: effective mode, setpoint, source, next change and schedule horizon."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bess_dispatch_core.gateway.control_law import ControlSource
from .bess_dispatch_core.gateway.dispatcher import DispatchState
from .bess_dispatch_core.protocol.command import ControlMode
from .data import BessDispatchConfigEntry
from .entity import BessDispatchEntity
from .runtime import SiteRuntime
from .telemetry_sensor import telemetry_sensors

PARALLEL_UPDATES = 0

type StateValue = str | float | datetime | None
EMERGENCY_STOP = "emergency_stop"


@dataclass(frozen=True, kw_only=True)
class ControlSensorDescription(SensorEntityDescription):
    value: Callable[[DispatchState], StateValue]


DESCRIPTIONS = (
    ControlSensorDescription(
        key="effective_mode",
        device_class=SensorDeviceClass.ENUM,
        # An emergency stop is shown as such, not as a plain IDLE a schedule could have asked.
        options=[mode.value.lower() for mode in ControlMode] + [EMERGENCY_STOP],
        value=lambda state: (
            EMERGENCY_STOP
            if state.decision.source is ControlSource.EMERGENCY_STOP
            else state.decision.mode.value.lower()
        ),
    ),
    ControlSensorDescription(
        key="setpoint",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=2,
        value=lambda state: state.decision.setpoint_kw,
    ),
    ControlSensorDescription(
        key="control_source",
        device_class=SensorDeviceClass.ENUM,
        options=[source.value for source in ControlSource],
        value=lambda state: state.decision.source.value,
    ),
    ControlSensorDescription(
        key="next_change",
        device_class=SensorDeviceClass.TIMESTAMP,
        value=lambda state: state.next_change,
    ),
    ControlSensorDescription(
        key="schedule_horizon_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value=lambda state: state.horizon_end,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BessDispatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    runtime = entry.runtime_data.runtime
    entities: list[SensorEntity] = [
        ControlSensor(runtime, description) for description in DESCRIPTIONS
    ]
    entities += telemetry_sensors(runtime, entry.runtime_data.telemetry)
    async_add_entities(entities)


class ControlSensor(BessDispatchEntity, SensorEntity):
    entity_description: ControlSensorDescription

    def __init__(self, runtime: SiteRuntime, description: ControlSensorDescription) -> None:
        super().__init__(runtime, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateValue:
        state = self.runtime.state
        return None if state is None else self.entity_description.value(state)
