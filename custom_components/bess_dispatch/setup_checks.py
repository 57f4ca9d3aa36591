"""What set-up waits for: the broker and the Modbus devices an entry reads and drives.

A device or broker that is gone when Home Assistant starts makes the entry "retrying
set-up" with the reason (ConfigEntryNotReady); HA tries again with growing pauses and the
entry comes up by itself once they answer. Once set up, the gateway rides out later
outages on its own (outbox, reconnect backoff, the inverter's revert timeout).
"""

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .bess_dispatch_core.link.link_failure import LinkError, LinkFailure
from .bess_dispatch_core.link.mqtt_link import BrokerSettings, probe_broker
from .bess_dispatch_core.sunspec.errors import SunSpecError
from .bess_dispatch_core.sunspec.modbus_link import ModbusLink
from .bess_dispatch_core.sunspec.scanner import find_base_address
from .const import (
    DOMAIN,
)
from .site_config import SiteConfig

# Failures that heal when the broker comes back. Refused credentials or certificates and
# a wrong CA do not: set-up goes on and the link's failure raises the repair issue/reauth.
GONE_FAILURES = frozenset(
    {
        LinkFailure.UNREACHABLE,
        LinkFailure.TIMEOUT,
        LinkFailure.REFUSED,
        LinkFailure.CONNECTION_LOST,
    }
)
# Each Modbus check: the connection attempt and the SunSpec marker read, each this long.
MODBUS_TIMEOUT_S = 3.0


async def async_broker_reachable(hass: HomeAssistant, settings: BrokerSettings) -> None:
    """Connect once; ConfigEntryNotReady naming the broker when it is gone."""
    try:
        await hass.async_add_executor_job(probe_broker, settings)
    except LinkError as err:
        if err.failure not in GONE_FAILURES:
            return
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="broker_unreachable",
            translation_placeholders={
                "host": settings.host,
                "port": str(settings.port),
                "detail": err.detail,
            },
        ) from err


async def async_modbus_devices_reachable(config: SiteConfig) -> None:
    """Each device answers with its SunSpec marker; else ConfigEntryNotReady naming it."""
    for host, port, unit_id in sorted(
        (device.host, device.port, device.unit_id) for device in config.modbus_devices
    ):
        try:
            async with ModbusLink(host, port, unit_id, timeout=MODBUS_TIMEOUT_S) as link:
                await find_base_address(link)
        except SunSpecError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="modbus_unreachable",
                translation_placeholders={
                    "host": host,
                    "port": str(port),
                    "unit_id": str(unit_id),
                    "detail": str(err),
                },
            ) from err
