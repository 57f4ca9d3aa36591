"""The actuator an entry's options choose, and the check the options flow runs on it."""

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant

from .bess_dispatch_core.gateway.actuator import Actuator, NoActuator
from .bess_dispatch_core.gateway.modbus_actuator import (
    DEFAULT_REVERT_AFTER_S,
    ModbusStorageActuator,
)
from .bess_dispatch_core.gateway.modbus_source import default_metric_map
from .bess_dispatch_core.protocol.metrics import UseCase
from .bess_dispatch_core.sunspec.errors import (
    SunSpecConnectionError,
    SunSpecError,
    SunSpecNotFoundError,
)
from .bess_dispatch_core.sunspec.modbus_link import ModbusLink
from .bess_dispatch_core.sunspec.scanner import SunSpecDevice, scan
from .const import (
    ACTUATOR_HOME_ASSISTANT,
    CONF_MODBUS_HOST,
    CONF_MODBUS_PORT,
    CONF_MODBUS_UNIT_ID,
    CONF_SOURCE_HOST,
    CONF_SOURCE_PORT,
    CONF_SOURCE_UNIT_ID,
)
from .ha_actuator import HomeAssistantActuator
from .site_config import ActuatorConfig
from .source_mapping import mappable_metrics


def build_actuator(hass: HomeAssistant, config: ActuatorConfig) -> tuple[Actuator, float | None]:
    """The actuator and the device's revert timeout (None: the target has none)."""
    if config.kind == ACTUATOR_HOME_ASSISTANT:
        return (
            HomeAssistantActuator(
                hass,
                script=config.script,
                setpoint_number=config.setpoint_number,
                mode_select=config.mode_select,
            ),
            None,
        )
    if config.modbus is not None:
        link = ModbusLink(config.modbus.host, config.modbus.port, config.modbus.unit_id)
        return ModbusStorageActuator(link), float(DEFAULT_REVERT_AFTER_S)
    return NoActuator(), None


async def _scan(host: str, port: int, unit_id: int) -> SunSpecDevice | dict[str, str]:
    """The device, or the config-flow error saying why it cannot be used."""
    try:
        return await scan(host, port, unit_id)
    except SunSpecConnectionError:
        return {"base": "modbus_cannot_connect"}
    except SunSpecNotFoundError:
        return {"base": "not_sunspec"}
    except SunSpecError:
        return {"base": "modbus_error"}


async def modbus_errors(options: Mapping[str, Any]) -> dict[str, str]:
    """Scan the device once; it must speak SunSpec and have storage controls (model 124)."""
    device = await _scan(
        options[CONF_MODBUS_HOST], int(options[CONF_MODBUS_PORT]), int(options[CONF_MODBUS_UNIT_ID])
    )
    if isinstance(device, dict):
        return device
    if device.storage is None:
        return {"base": "no_storage_controls"}
    return {}


async def modbus_source_map(
    device_settings: Mapping[str, Any], use_case: UseCase, has_load: bool
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(metric -> reading, errors, required metrics the device cannot provide)."""
    device = await _scan(
        device_settings[CONF_SOURCE_HOST],
        int(device_settings[CONF_SOURCE_PORT]),
        int(device_settings[CONF_SOURCE_UNIT_ID]),
    )
    if isinstance(device, dict):
        return {}, device, []
    metric_map = default_metric_map(device, use_case)
    required, _optional = mappable_metrics(use_case, has_load)
    missing = sorted(m.name for m in required if m.name not in metric_map)
    if missing:
        return metric_map, {"base": "modbus_missing_metrics"}, missing
    return metric_map, {}, []
