"""The actuator an entry's options choose, and the check the options flow runs on it."""

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant

from .bess_dispatch_core.gateway.actuator import Actuator, NoActuator
from .bess_dispatch_core.gateway.modbus_actuator import (
    DEFAULT_REVERT_AFTER_S,
    ModbusStorageActuator,
)
from .bess_dispatch_core.sunspec.errors import (
    SunSpecConnectionError,
    SunSpecError,
    SunSpecNotFoundError,
)
from .bess_dispatch_core.sunspec.modbus_link import ModbusLink
from .bess_dispatch_core.sunspec.scanner import scan
from .const import (
    ACTUATOR_HOME_ASSISTANT,
    ACTUATOR_MODBUS,
    CONF_ACTUATOR,
    CONF_ACTUATOR_NUMBER,
    CONF_ACTUATOR_SCRIPT,
    CONF_ACTUATOR_SELECT,
    CONF_MODBUS_HOST,
    CONF_MODBUS_PORT,
    CONF_MODBUS_UNIT_ID,
)
from .ha_actuator import HomeAssistantActuator


def build_actuator(
    hass: HomeAssistant, options: Mapping[str, Any]
) -> tuple[Actuator, float | None]:
    """The actuator and the device's revert timeout (None: the target has none)."""
    kind = options.get(CONF_ACTUATOR)
    if kind == ACTUATOR_HOME_ASSISTANT:
        return (
            HomeAssistantActuator(
                hass,
                script=options.get(CONF_ACTUATOR_SCRIPT),
                setpoint_number=options.get(CONF_ACTUATOR_NUMBER),
                mode_select=options.get(CONF_ACTUATOR_SELECT),
            ),
            None,
        )
    if kind == ACTUATOR_MODBUS:
        link = ModbusLink(
            options[CONF_MODBUS_HOST],
            int(options[CONF_MODBUS_PORT]),
            int(options[CONF_MODBUS_UNIT_ID]),
        )
        return ModbusStorageActuator(link), float(DEFAULT_REVERT_AFTER_S)
    return NoActuator(), None


async def modbus_errors(options: Mapping[str, Any]) -> dict[str, str]:
    """Scan the device once; it must speak SunSpec and have storage controls (model 124)."""
    try:
        device = await scan(
            options[CONF_MODBUS_HOST],
            int(options[CONF_MODBUS_PORT]),
            int(options[CONF_MODBUS_UNIT_ID]),
        )
    except SunSpecConnectionError:
        return {"base": "modbus_cannot_connect"}
    except SunSpecNotFoundError:
        return {"base": "not_sunspec"}
    except SunSpecError:
        return {"base": "modbus_error"}
    if device.storage is None:
        return {"base": "no_storage_controls"}
    return {}
