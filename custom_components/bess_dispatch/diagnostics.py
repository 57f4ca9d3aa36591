"""Diagnostics: what a support case needs, with every secret redacted."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_CA_FILE, CONF_CLIENT_CERT, CONF_CLIENT_KEY, CONF_PASSWORD, CONF_USERNAME
from .data import BessDispatchConfigEntry

# Credentials, and the paths of certificate files (they reveal the host's layout and
# where the private key lives).
TO_REDACT = {CONF_PASSWORD, CONF_USERNAME, CONF_CA_FILE, CONF_CLIENT_CERT, CONF_CLIENT_KEY}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: BessDispatchConfigEntry
) -> dict[str, Any]:
    runtime = entry.runtime_data.runtime
    config = entry.runtime_data.config
    state = runtime.state
    failure = runtime.link_status.failure
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        # The settings as set-up read them (SiteConfig), defaults filled in.
        "site": {
            "use_case": config.use_case.value,
            "has_load": config.has_load,
            "usable_kwh": config.usable_kwh,
            "source": "entities" if config.modbus_source is None else "modbus",
            "actuator": config.actuator.kind,
            "telemetry_interval_s": config.telemetry_interval.total_seconds(),
            "telemetry_window_s": config.telemetry_window.total_seconds(),
            "own_broker": config.own_broker,
        },
        "link": {
            "connected": runtime.link_status.connected,
            "last_failure": None if failure is None else failure.failure.value,
            "last_failure_detail": None if failure is None else failure.detail,
        },
        "limits": asdict(runtime.dispatcher.limits),
        "control": None
        if state is None
        else {
            "at": state.at.isoformat(),
            "mode": state.decision.mode.value,
            "source": state.decision.source.value,
            "setpoint_kw": state.decision.setpoint_kw,
            "max_charge_kw": state.decision.max_charge_kw,
            "max_discharge_kw": state.decision.max_discharge_kw,
            "limited_by": sorted(limit.value for limit in state.decision.limited_by),
            "command_id": state.command_id,
            "next_change": None if state.next_change is None else state.next_change.isoformat(),
            "horizon_end": None if state.horizon_end is None else state.horizon_end.isoformat(),
        },
        "last_command_response": None
        if runtime.last_response is None
        else runtime.last_response.to_dict(),
        "dispatcher": runtime.dispatcher.to_dict(),
        "telemetry": _telemetry(entry),
    }


def _telemetry(entry: BessDispatchConfigEntry) -> dict[str, Any]:
    telemetry = entry.runtime_data.telemetry
    stats = telemetry.stats()
    return {
        "metrics": telemetry.pipeline.metrics,
        "unavailable_since": {
            metric: since.isoformat()
            for metric, since in telemetry.pipeline.unavailable_since().items()
        },
        "outbox": None
        if stats is None
        else {
            "queued": stats.queued,
            "in_flight": stats.in_flight,
            "sent": stats.sent,
            "failed_publishes": stats.failed_publishes,
            "dropped": {str(reason): n for reason, n in stats.dropped.by_reason.items()},
        },
        "last_sent": None if telemetry.last_sent is None else telemetry.last_sent.isoformat(),
        "active_alerts": {code: at.isoformat() for code, at in telemetry.alerts.active.items()},
        "feedback": telemetry.feedback.to_dict(),
    }
