"""Control mode select: follow the schedule (auto) or one of the manual modes."""

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bess_dispatch_core.protocol.command import ControlMode
from .data import BessDispatchConfigEntry
from .entity import BessDispatchEntity
from .manual_control import AUTO, manual_override
from .runtime import SiteRuntime

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BessDispatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([ControlModeSelect(entry.runtime_data.runtime)])


class ControlModeSelect(BessDispatchEntity, SelectEntity):
    def __init__(self, runtime: SiteRuntime) -> None:
        super().__init__(runtime, "control_mode")
        self._attr_options = [AUTO, *(mode.value.lower() for mode in ControlMode)]

    @property
    def current_option(self) -> str:
        override = self.runtime.dispatcher.override
        return AUTO if override is None else override.mode.value.lower()

    async def async_select_option(self, option: str) -> None:
        if option == AUTO:
            self.runtime.clear_override()
            return
        self.runtime.set_override(manual_override(self.runtime, ControlMode(option.upper())))
