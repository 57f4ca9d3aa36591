"""BESS Dispatch: a home battery's EMS gateway for Home Assistant.

Thin by design: it wires a config entry to the pure ``bess_dispatch_core`` package (broker
link, schedule book, control law) through :class:`SiteRuntime`.
"""

from homeassistant.components import mqtt
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .actuator_setup import build_actuator
from .bess_dispatch_core.gateway.dispatcher import Dispatcher
from .bess_dispatch_core.link.link_failure import LinkError
from .bess_dispatch_core.link.mqtt_link import MqttLink
from .bess_dispatch_core.link.tls_context import TlsConfigError
from .broker import AUTH_FAILURES, build_broker_settings
from .broker_link import BrokerLink
from .const import DOMAIN
from .data import BessDispatchConfigEntry, BessDispatchData
from .entity import GATEWAY_DEVICE, device_info
from .ha_mqtt_link import HomeAssistantMqttLink
from .runtime import SiteRuntime, dispatcher_store
from .services import async_register_services
from .setup_checks import async_broker_reachable, async_modbus_devices_reachable
from .site_config import SiteConfig
from .telemetry import SiteTelemetry, remove_outbox, telemetry_store

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Actions exist once, for every entry."""
    async_register_services(hass)
    return True


def broker_issue_id(entry: BessDispatchConfigEntry) -> str:
    return f"broker_refused_{entry.entry_id}"


async def async_setup_entry(hass: HomeAssistant, entry: BessDispatchConfigEntry) -> bool:
    """Set up one site+gateway from its config entry."""
    # Read once: everything below takes its settings from here, not from the entry.
    config = SiteConfig.from_entry(entry.data, entry.options)
    link = await _async_broker_link(hass, entry, config)
    await async_modbus_devices_reachable(config)
    actuator, revert_after_s = build_actuator(hass, config.actuator)
    telemetry = SiteTelemetry(
        hass,
        entry_id=entry.entry_id,
        site_id=config.site_id,
        gateway_id=config.gateway_id,
        link=link,
        sources=config.sources,
        modbus=config.modbus_source,
        usable_kwh=config.usable_kwh,
        soe_min_kwh=config.limits.soe_min_kwh,
        soe_max_kwh=config.limits.soe_max_kwh,
        interval=config.telemetry_interval,
        window=config.telemetry_window,
    )
    runtime = SiteRuntime(
        hass,
        entry_id=entry.entry_id,
        site_id=config.site_id,
        gateway_id=config.gateway_id,
        link=link,
        dispatcher=Dispatcher(config.limits),
        telemetry=telemetry,
        spawn=lambda target, name: entry.async_create_background_task(hass, target, name),
        actuator=actuator,
        revert_after_s=revert_after_s,
    )
    telemetry.set_soe_listener(runtime.evaluate)
    runtime.gateway_device_id = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, **device_info(runtime, GATEWAY_DEVICE))
        .id
    )
    await runtime.async_restore()
    entry.runtime_data = BessDispatchData(
        config=config,
        runtime=runtime,
        telemetry=telemetry,
    )

    @callback
    def link_failed(error: LinkError) -> None:
        # Only a refusal of our credentials or certificate needs the user; other failures
        # heal by themselves and the link keeps retrying with backoff.
        if error.failure not in AUTH_FAILURES:
            return
        ir.async_create_issue(
            hass,
            DOMAIN,
            broker_issue_id(entry),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="broker_refused",
            translation_placeholders={"host": config.broker_host, "detail": error.detail},
        )
        entry.async_start_reauth(hass)

    @callback
    def link_state_changed() -> None:
        if runtime.link_status.connected:
            ir.async_delete_issue(hass, DOMAIN, broker_issue_id(entry))

    entry.async_on_unload(runtime.async_add_listener(link_state_changed))
    # Telemetry first: its outbox must be open before the link connects and drains it.
    await telemetry.async_start()
    await runtime.async_start(link_failed)

    async def stop_on_shutdown(event: Event) -> None:
        await _async_stop(telemetry, runtime)

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop_on_shutdown))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_broker_link(
    hass: HomeAssistant, entry: BessDispatchConfigEntry, config: SiteConfig
) -> BrokerLink:
    """HA's MQTT integration, or our own paho link (TLS set up off the event loop).

    Not ready while the broker is gone: HA retries set-up and the entry comes up by itself.
    """
    if not config.own_broker:
        if not await mqtt.async_wait_for_mqtt_client(hass):
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="mqtt_not_available"
            )
        return HomeAssistantMqttLink(hass)
    try:
        settings = await hass.async_add_executor_job(build_broker_settings, entry.data)
    except TlsConfigError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="tls_file_unusable",
            translation_placeholders={"field": err.field, "error": str(err)},
        ) from err
    await async_broker_reachable(hass, settings)
    return MqttLink(settings, name=f"bess-dispatch-{config.site_id}")


async def _async_stop(telemetry: SiteTelemetry, runtime: SiteRuntime) -> None:
    """Forwarder, then link, then outbox: no acknowledgement lands on a closed outbox."""
    await telemetry.async_stop()
    await runtime.async_stop()
    await telemetry.async_close()


async def async_unload_entry(hass: HomeAssistant, entry: BessDispatchConfigEntry) -> bool:
    """Unload platforms, then stop the link and save the schedules."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await _async_stop(entry.runtime_data.telemetry, entry.runtime_data.runtime)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: BessDispatchConfigEntry) -> None:
    """Forget the stored schedules of a removed site."""
    ir.async_delete_issue(hass, DOMAIN, broker_issue_id(entry))
    await dispatcher_store(hass, entry.entry_id).async_remove()
    await telemetry_store(hass, entry.entry_id).async_remove()
    await hass.async_add_executor_job(remove_outbox, hass, entry.entry_id)
