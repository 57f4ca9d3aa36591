"""An event entity that fires on every change of the effective mode."""

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bess_dispatch_core.protocol.command import ControlMode
from .data import BessDispatchConfigEntry
from .entity import BessDispatchEntity
from .runtime import SiteRuntime

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BessDispatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([ModeChangeEvent(entry.runtime_data.runtime)])


class ModeChangeEvent(BessDispatchEntity, EventEntity):
    """Event type = the new mode; attributes say where it came from and the setpoint."""

    def __init__(self, runtime: SiteRuntime) -> None:
        super().__init__(runtime, "mode_change")
        self._attr_event_types = [mode.value.lower() for mode in ControlMode]
        self._last: tuple[str, str] | None = None

    async def async_added_to_hass(self) -> None:
        # Not the base class's listener: only a change of mode or source is an event.
        state = self.runtime.state
        if state is not None:
            self._last = (state.decision.mode.value, state.decision.source.value)
        self.async_on_remove(self.runtime.async_add_listener(self._runtime_updated))

    @callback
    def _runtime_updated(self) -> None:
        state = self.runtime.state
        if state is None:
            return
        current = (state.decision.mode.value, state.decision.source.value)
        if current == self._last:
            return
        self._last = current
        self._trigger_event(
            state.decision.mode.value.lower(),
            {"source": state.decision.source.value, "setpoint_kw": state.decision.setpoint_kw},
        )
        self.async_write_ha_state()
