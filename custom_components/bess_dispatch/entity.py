"""The one entity base class: device, unique id and updates from the site runtime."""

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .runtime import SiteRuntime
from .update_listeners import UpdateListeners

GATEWAY_DEVICE = "gateway"
BATTERY_DEVICE = "battery"


def device_info(runtime: SiteRuntime, device: str) -> DeviceInfo:
    """Gateway device for the site link; other devices hang below it.

    The gateway device is registered first (see ``async_setup_entry``) because the others
    point at its registry id.
    """
    if device == GATEWAY_DEVICE:
        return DeviceInfo(
            identifiers={(DOMAIN, f"{runtime.site_id}/{runtime.gateway_id}")},
            translation_key=GATEWAY_DEVICE,
            translation_placeholders={"site_id": runtime.site_id},
            manufacturer="BESS Dispatch",
            model="EMS gateway",
        )
    return DeviceInfo(
        identifiers={(DOMAIN, f"{runtime.site_id}/{runtime.gateway_id}/{device}")},
        translation_key=device,
        translation_placeholders={"site_id": runtime.site_id},
        via_device_id=runtime.gateway_device_id,
    )


class BessDispatchEntity(Entity):
    """Pushed by the runtime; never polled."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, runtime: SiteRuntime, key: str, device: str = BATTERY_DEVICE) -> None:
        self.runtime = runtime
        self._attr_translation_key = key
        self._attr_unique_id = f"{runtime.site_id}_{runtime.gateway_id}_{key}"
        self._attr_device_info = device_info(runtime, device)

    def _update_source(self) -> UpdateListeners:
        """The one part this entity follows: one listener, one state write per update."""
        return self.runtime

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self._update_source().async_add_listener(self.async_write_ha_state))
