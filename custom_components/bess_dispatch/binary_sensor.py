"""Following the schedule, and the broker connection."""

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import BessDispatchConfigEntry
from .entity import GATEWAY_DEVICE, BessDispatchEntity
from .runtime import SiteRuntime

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BessDispatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    runtime = entry.runtime_data.runtime
    async_add_entities([FollowingScheduleSensor(runtime), BrokerConnectedSensor(runtime)])


class FollowingScheduleSensor(BessDispatchEntity, BinarySensorEntity):
    """On while a schedule layer (not the owner, not the fallback) drives the battery."""

    def __init__(self, runtime: SiteRuntime) -> None:
        super().__init__(runtime, "following_schedule")

    @property
    def is_on(self) -> bool | None:
        state = self.runtime.state
        return None if state is None else state.following_schedule


class BrokerConnectedSensor(BessDispatchEntity, BinarySensorEntity):
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, runtime: SiteRuntime) -> None:
        super().__init__(runtime, "broker_connected", GATEWAY_DEVICE)

    @property
    def is_on(self) -> bool:
        return self.runtime.link_status.connected
