"""Control views: manual mode (with until), charge limit, emergency stop.

A request is checked whole before anything changes: bad input is a 400 naming the field, a
request the owner's hard limits or a held emergency stop forbid is a 409; either way the
site keeps doing what it did.
"""

from datetime import datetime
from typing import Any

from aiohttp import web
from homeassistant.util import dt as dt_util

from ..bess_dispatch_core.gateway.control_law import HardLimits
from ..bess_dispatch_core.protocol.command import ControlMode
from ..manual_control import AUTO, manual_override
from ..runtime import SiteRuntime
from .base import API_PREFIX, ApiView, Caller, json_body, site_entry
from .errors import bad_field, emergency_stop_held, hard_limit
from .fields import future, number, only_known, text
from .roles import Action
from .site_state import status_json

MODES = [AUTO] + [mode.value.lower() for mode in ControlMode]


def check_power(limits: HardLimits, field: str, power_kw: float) -> None:
    """409 when a setpoint is beyond the battery's power limits."""
    if power_kw > limits.max_charge_kw:
        raise hard_limit(
            field, f"exceeds the maximum charge power {limits.max_charge_kw:g} kW", "charge_power"
        )
    if -power_kw > limits.max_discharge_kw:
        raise hard_limit(
            field,
            f"exceeds the maximum discharge power {limits.max_discharge_kw:g} kW",
            "discharge_power",
        )


def check_charge_limit(limits: HardLimits, field: str, max_charge_kw: float) -> None:
    if max_charge_kw > limits.max_charge_kw:
        raise hard_limit(
            field, f"exceeds the maximum charge power {limits.max_charge_kw:g} kW", "charge_power"
        )


def _not_stopped(runtime: SiteRuntime) -> None:
    if runtime.dispatcher.emergency_stop:
        raise emergency_stop_held()


def _until(body: dict[str, Any], now: datetime) -> datetime | None:
    return None if body.get("until") is None else future(body, "until", now)


class ModeView(ApiView):
    """POST {"mode", "power_kw"?, "max_charge_kw"?, "until"?}; mode "auto" follows the schedule."""

    url = f"{API_PREFIX}/sites/{{site_id}}/mode"
    name = "api:bess_dispatch:mode"

    async def post(self, request: web.Request, site_id: str) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            body = await json_body(request)
            entry = site_entry(caller)
            runtime = entry.runtime_data.runtime
            limits = entry.runtime_data.config.limits
            only_known(body, ("mode", "power_kw", "max_charge_kw", "until"))
            mode_name = text(body, "mode", MODES)
            now = dt_util.utcnow()
            until = _until(body, now)
            power = charge = None
            for field, needed_by in (("power_kw", "setpoint"), ("max_charge_kw", "limit_charge")):
                if mode_name != needed_by and field in body:
                    raise bad_field(field, f"applies only to mode {needed_by}")
            if mode_name == AUTO and until is not None:
                raise bad_field("until", "does not apply to mode auto")
            if mode_name == "setpoint":
                power = number(body, "power_kw")
                check_power(limits, "power_kw", power)
            if mode_name == "limit_charge":
                charge = number(body, "max_charge_kw", minimum=0)
                check_charge_limit(limits, "max_charge_kw", charge)
            _not_stopped(runtime)
            if mode_name == AUTO:
                runtime.clear_override()
            else:
                if power is not None:
                    runtime.manual_setpoint_kw = power
                if charge is not None:
                    runtime.manual_charge_limit_kw = charge
                mode = ControlMode(mode_name.upper())
                runtime.set_override(manual_override(runtime, mode, until))
            return self.json(status_json(entry))

        return await self.guarded(request, Action.CONTROL, site_id, answer)


class ChargeLimitView(ApiView):
    """POST {"max_charge_kw", "until"?}: the limit-charge manual mode at that limit."""

    url = f"{API_PREFIX}/sites/{{site_id}}/charge_limit"
    name = "api:bess_dispatch:charge_limit"

    async def post(self, request: web.Request, site_id: str) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            body = await json_body(request)
            entry = site_entry(caller)
            runtime = entry.runtime_data.runtime
            only_known(body, ("max_charge_kw", "until"))
            charge = number(body, "max_charge_kw", minimum=0)
            until = _until(body, dt_util.utcnow())
            check_charge_limit(entry.runtime_data.config.limits, "max_charge_kw", charge)
            _not_stopped(runtime)
            runtime.manual_charge_limit_kw = charge
            runtime.set_override(manual_override(runtime, ControlMode.LIMIT_CHARGE, until))
            return self.json(status_json(entry))

        return await self.guarded(request, Action.CONTROL, site_id, answer)


class EmergencyStopView(ApiView):
    """POST holds the battery idle above everything; DELETE releases it."""

    url = f"{API_PREFIX}/sites/{{site_id}}/emergency_stop"
    name = "api:bess_dispatch:emergency_stop"

    async def post(self, request: web.Request, site_id: str) -> web.Response:
        return await self._set(request, site_id, held=True)

    async def delete(self, request: web.Request, site_id: str) -> web.Response:
        return await self._set(request, site_id, held=False)

    async def _set(self, request: web.Request, site_id: str, *, held: bool) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            only_known(await json_body(request), ())
            entry = site_entry(caller)
            entry.runtime_data.runtime.set_emergency_stop(held)
            return self.json(status_json(entry))

        return await self.guarded(request, Action.EMERGENCY_STOP, site_id, answer)
