"""Actions: set_control_mode, clear_override, load_schedule, publish_now,
pleevi_device_entry."""

import json
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .bess_dispatch_core.pleevi import PleeviValueError
from .bess_dispatch_core.protocol.command import ControlMode, Priority
from .bess_dispatch_core.protocol.responses import ResponseStatus
from .bess_dispatch_core.protocol.timeformat import format_datetime
from .bess_dispatch_core.protocol.version import SCHEMA_VERSION
from .const import DOMAIN
from .data import BessDispatchConfigEntry
from .manual_control import manual_override
from .runtime import SiteRuntime

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_MODE = "mode"
ATTR_POWER_KW = "power_kw"
ATTR_MAX_CHARGE_KW = "max_charge_kw"
ATTR_UNTIL = "until"
ATTR_DURATION = "duration"
ATTR_PRIORITY = "priority"
ATTR_SCHEDULE = "schedule"
ATTR_COMMAND_ID = "command_id"

SERVICE_SET_CONTROL_MODE = "set_control_mode"
SERVICE_CLEAR_OVERRIDE = "clear_override"
SERVICE_LOAD_SCHEDULE = "load_schedule"
SERVICE_PUBLISH_NOW = "publish_now"
SERVICE_PLEEVI_DEVICE_ENTRY = "pleevi_device_entry"

_ENTRY: dict[Any, Any] = {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string}

SET_CONTROL_MODE_SCHEMA = vol.Schema(
    vol.All(
        {
            **_ENTRY,
            vol.Required(ATTR_MODE): vol.In([mode.value.lower() for mode in ControlMode]),
            vol.Optional(ATTR_POWER_KW): vol.Coerce(float),
            vol.Optional(ATTR_MAX_CHARGE_KW): vol.All(vol.Coerce(float), vol.Range(min=0)),
            vol.Exclusive(ATTR_UNTIL, "end"): cv.datetime,
            vol.Exclusive(ATTR_DURATION, "end"): cv.positive_time_period,
        },
    )
)
CLEAR_OVERRIDE_SCHEMA = vol.Schema(_ENTRY)
PUBLISH_NOW_SCHEMA = vol.Schema(_ENTRY)
PLEEVI_DEVICE_ENTRY_SCHEMA = vol.Schema(_ENTRY)
LOAD_SCHEDULE_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_PRIORITY): vol.All(vol.Coerce(int), vol.In([int(p) for p in Priority])),
        vol.Required(ATTR_SCHEDULE): vol.All(cv.ensure_list, [dict]),
        vol.Optional(ATTR_COMMAND_ID): cv.string,
    }
)


def _entry(hass: HomeAssistant, call: ServiceCall) -> BessDispatchConfigEntry:
    entry_id = call.data[ATTR_CONFIG_ENTRY_ID]
    entry: BessDispatchConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


def _runtime(hass: HomeAssistant, call: ServiceCall) -> SiteRuntime:
    return _entry(hass, call).runtime_data.runtime


async def _set_control_mode(call: ServiceCall) -> None:
    runtime = _runtime(call.hass, call)
    mode = ControlMode(call.data[ATTR_MODE].upper())
    if mode is ControlMode.SETPOINT and ATTR_POWER_KW not in call.data:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="setpoint_needs_power"
        )
    if mode is ControlMode.LIMIT_CHARGE and ATTR_MAX_CHARGE_KW not in call.data:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="limit_charge_needs_max"
        )
    now = dt_util.utcnow()
    until = call.data.get(ATTR_UNTIL)
    if until is not None:
        until = dt_util.as_utc(
            until if until.tzinfo else until.replace(tzinfo=dt_util.get_default_time_zone())
        )
    duration: timedelta | None = call.data.get(ATTR_DURATION)
    if duration is not None:
        until = now + duration
    if until is not None and until <= now:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="until_in_past")
    if ATTR_POWER_KW in call.data:
        runtime.manual_setpoint_kw = call.data[ATTR_POWER_KW]
    if ATTR_MAX_CHARGE_KW in call.data:
        runtime.manual_charge_limit_kw = call.data[ATTR_MAX_CHARGE_KW]
    runtime.set_override(manual_override(runtime, mode, until))


async def _clear_override(call: ServiceCall) -> None:
    _runtime(call.hass, call).clear_override()


async def _load_schedule(call: ServiceCall) -> ServiceResponse:
    """Runs the schedule through exactly the validation MQTT commands get."""
    runtime = _runtime(call.hass, call)
    now = dt_util.utcnow()
    command: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "message_id": str(uuid.uuid4()),
        "sent_at": format_datetime(now),
        "command_id": call.data.get(ATTR_COMMAND_ID) or f"ha-action-{uuid.uuid4()}",
        "issued_at": format_datetime(now),
        "priority": call.data[ATTR_PRIORITY],
        "schedule": call.data[ATTR_SCHEDULE],
    }
    # A schedule can be long: encoding it stays off the event loop, like its validation.
    payload = await call.hass.async_add_executor_job(partial(json.dumps, command, default=str))
    response = await runtime.async_handle_command_payload(payload)
    if response.status is ResponseStatus.REJECTED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="schedule_rejected",
            translation_placeholders={
                "errors": "; ".join(
                    f"{error.code.value} at {error.path or 'schedule'}: {error.message}"
                    for error in response.errors
                )
            },
        )
    return {"command_id": response.command_id, "status": response.status.value}


async def _publish_now(call: ServiceCall) -> ServiceResponse:
    """Every metric's latest values now, e.g. after fixing a sensor."""
    sent = _entry(call.hass, call).runtime_data.telemetry.publish_now()
    return {"messages": sent}


async def _pleevi_device_entry(call: ServiceCall) -> ServiceResponse:
    """The battery's Pleevi device_list entry, for the site's Pleevi configuration."""
    entry = _entry(call.hass, call)
    try:
        return entry.runtime_data.config.pleevi_device_entry().to_dict()
    except PleeviValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="pleevi_value_invalid",
            translation_placeholders={"field": err.field, "error": str(err)},
        ) from err


def async_register_services(hass: HomeAssistant) -> None:
    hass.services.async_register(
        DOMAIN, SERVICE_SET_CONTROL_MODE, _set_control_mode, schema=SET_CONTROL_MODE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CLEAR_OVERRIDE, _clear_override, schema=CLEAR_OVERRIDE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LOAD_SCHEDULE,
        _load_schedule,
        schema=LOAD_SCHEDULE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_PUBLISH_NOW,
        _publish_now,
        schema=PUBLISH_NOW_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_PLEEVI_DEVICE_ENTRY,
        _pleevi_device_entry,
        schema=PLEEVI_DEVICE_ENTRY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
