"""Manual setpoint and charge limit, used by the manual SETPOINT and LIMIT_CHARGE modes."""

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberMode,
    RestoreNumber,
)
from homeassistant.const import EntityCategory, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import BessDispatchConfigEntry
from .entity import BessDispatchEntity
from .runtime import SiteRuntime

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BessDispatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    runtime = entry.runtime_data.runtime
    limits = runtime.dispatcher.limits
    async_add_entities(
        [
            ManualSetpointNumber(runtime, -limits.max_discharge_kw, limits.max_charge_kw),
            ManualChargeLimitNumber(runtime, 0.0, limits.max_charge_kw),
        ]
    )


class _ManualNumber(BessDispatchEntity, RestoreNumber):
    _attr_device_class = NumberDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.KILO_WATT
    _attr_native_step = 0.01
    _attr_mode = NumberMode.BOX
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, runtime: SiteRuntime, key: str, minimum: float, maximum: float) -> None:
        super().__init__(runtime, key)
        self._attr_native_min_value = minimum
        self._attr_native_max_value = maximum

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_number_data()
        if last is not None and last.native_value is not None:
            self._store(min(self.native_max_value, max(self.native_min_value, last.native_value)))

    async def async_set_native_value(self, value: float) -> None:
        self._store(value)

    def _store(self, value: float) -> None:
        raise NotImplementedError


class ManualSetpointNumber(_ManualNumber):
    """kW for the manual SETPOINT mode: + charges, - discharges."""

    def __init__(self, runtime: SiteRuntime, minimum: float, maximum: float) -> None:
        super().__init__(runtime, "manual_setpoint", minimum, maximum)

    @property
    def native_value(self) -> float:
        return self.runtime.manual_setpoint_kw

    def _store(self, value: float) -> None:
        self.runtime.set_manual_values(setpoint_kw=value)


class ManualChargeLimitNumber(_ManualNumber):
    """Charge cap for the manual LIMIT_CHARGE mode."""

    def __init__(self, runtime: SiteRuntime, minimum: float, maximum: float) -> None:
        super().__init__(runtime, "manual_charge_limit", minimum, maximum)

    @property
    def native_value(self) -> float:
        return self.runtime.manual_charge_limit_kw

    def _store(self, value: float) -> None:
        self.runtime.set_manual_values(charge_limit_kw=value)
