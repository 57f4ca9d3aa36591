"""What the integration knows about a site now, as the API's JSON (status, flow, plan, savings).

Everything here is read from the site's runtime; nothing is estimated that the gateway
does not know: where data is missing the answer says so (``available: false`` and why).
"""

from datetime import datetime, timedelta
from typing import Any

from homeassistant.util import dt as dt_util

from ..bess_dispatch_core.gateway.control_law import ControlSource
from ..bess_dispatch_core.gateway.demand_response import DemandResponseEvent
from ..bess_dispatch_core.gateway.dispatcher import DispatchState
from ..bess_dispatch_core.gateway.expected_savings import expected_savings_json
from ..bess_dispatch_core.gateway.metric_source import SourceQuantity
from ..bess_dispatch_core.protocol.command import ControlMode
from ..bess_dispatch_core.protocol.timeformat import format_datetime
from ..bess_dispatch_core.units import percent_of_capacity
from ..data import BessDispatchConfigEntry
from ..runtime import SiteRuntime

PLAN_HORIZON = timedelta(hours=24)
EMERGENCY_STOP = "emergency_stop"

# Flow direction -> the metrics that measure it, by use case (the first present wins).
FLOW_METRICS: dict[str, tuple[str, ...]] = {
    "pv": ("solar_net_generation_ac", "solar_generation_dc"),
    "load": ("load_demand_ac",),
    "grid_import": ("meter_import_ac",),
    "grid_export": ("meter_export_ac",),
    "battery_charge": ("battery_charge_ac", "battery_charge_dc"),
    "battery_discharge": ("battery_discharge_ac", "battery_to_inverter_dc"),
}


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


def effective_mode(state: DispatchState) -> str:
    """As the Effective mode sensor shows it."""
    if state.decision.source is ControlSource.EMERGENCY_STOP:
        return EMERGENCY_STOP
    return state.decision.mode.value.lower()


def decision_json(state: DispatchState) -> dict[str, Any]:
    decision = state.decision
    return {
        "effective_mode": effective_mode(state),
        "source": decision.source.value,
        "setpoint_kw": decision.setpoint_kw,
        "max_charge_kw": decision.max_charge_kw,
        "max_discharge_kw": decision.max_discharge_kw,
        "limited_by": sorted(limit.value for limit in decision.limited_by),
        "next_change": _time(state.next_change),
    }


def current_state(runtime: SiteRuntime) -> DispatchState:
    return runtime.state if runtime.state is not None else runtime.evaluate()


def status_json(entry: BessDispatchConfigEntry) -> dict[str, Any]:
    config = entry.runtime_data.config
    runtime = entry.runtime_data.runtime
    telemetry = entry.runtime_data.telemetry
    state = current_state(runtime)
    soe = telemetry.soe_kwh()
    override = runtime.dispatcher.override
    event = runtime.dispatcher.demand_response.active(state.at)
    return {
        "site_id": config.site_id,
        "gateway_id": config.gateway_id,
        "at": format_datetime(dt_util.utcnow()),
        "soc_pct": None if soe is None else round(percent_of_capacity(soe, config.usable_kwh), 3),
        "soe_kwh": soe,
        "usable_kwh": config.usable_kwh,
        "battery_power_kw": _battery_power(entry),
        "control": decision_json(state),
        "manual_override": None
        if override is None
        else {"mode": override.mode.value.lower(), "until": _time(override.until)},
        "emergency_stop": runtime.dispatcher.emergency_stop,
        "demand_response_event": None if event is None else event.event_id,
        "broker_connected": runtime.link_status.connected,
    }


def _battery_power(entry: BessDispatchConfigEntry) -> dict[str, Any]:
    """Measured battery power (+ charge) where its metrics are power-measured, else why not."""
    flow = flow_json(entry)["flows"]
    charge, discharge = flow["battery_charge"], flow["battery_discharge"]
    if charge["power_kw"] is None or discharge["power_kw"] is None:
        return {
            "available": False,
            "power_kw": None,
            "reason": "the battery is measured as energy only (kWh counters), not power",
        }
    return {"available": True, "power_kw": charge["power_kw"] - discharge["power_kw"]}


def flow_json(entry: BessDispatchConfigEntry) -> dict[str, Any]:
    """PV, load, grid and battery now: power where measured as power, lifetime kWh always."""
    telemetry = entry.runtime_data.telemetry
    pipeline = telemetry.pipeline
    flows: dict[str, Any] = {}
    for name, candidates in FLOW_METRICS.items():
        metric = next((m for m in candidates if m in pipeline.metrics), None)
        if metric is None:
            flows[name] = {"metric": None, "power_kw": None, "lifetime_kwh": None}
            continue
        power = None
        if telemetry.quantities.get(metric) is SourceQuantity.POWER:
            power = pipeline.value(metric)
        flows[name] = {
            "metric": metric,
            "power_kw": power,
            "lifetime_kwh": pipeline.lifetime_kwh(metric),
        }
    return {
        "site_id": entry.runtime_data.config.site_id,
        "at": format_datetime(dt_util.utcnow()),
        "flows": flows,
        "note": "power_kw is null for a quantity measured by an energy counter only",
    }


def plan_json(entry: BessDispatchConfigEntry) -> dict[str, Any]:
    """The schedule for the next 24 h and the SoE it leads to, as far as it is knowable.

    The SoE is projected from the current SoE through SETPOINT and IDLE blocks only (their
    power is fixed), bounded by the SoE window, without conversion losses; the first block
    whose power depends on PV and load (self-consumption, no discharge, limit charge, or no
    schedule) ends the projection, and the answer says so.
    """
    config = entry.runtime_data.config
    runtime = entry.runtime_data.runtime
    telemetry = entry.runtime_data.telemetry
    limits = config.limits
    now = dt_util.utcnow()
    end = now + PLAN_HORIZON
    blocks = runtime.dispatcher.book.blocks(now, end)
    soe = telemetry.soe_kwh()
    points: list[dict[str, Any]] = []
    stopped: str | None = None
    if soe is None:
        stopped = "the battery's SoE is unknown now"
    else:
        points.append({"at": format_datetime(now), "soe_kwh": soe})
    cursor = now
    for block in blocks:
        if stopped is not None:
            break
        if block.start > cursor:
            stopped = f"no schedule covers {format_datetime(cursor)}"
            break
        if block.mode not in (ControlMode.SETPOINT, ControlMode.IDLE):
            stopped = (
                f"{block.mode.value} from {format_datetime(block.start)} follows PV and "
                "load, which the gateway does not forecast"
            )
            break
        assert soe is not None
        power = block.power_kw or 0.0
        power = min(limits.max_charge_kw, max(-limits.max_discharge_kw, power))
        hours = (block.end - max(block.start, cursor)).total_seconds() / 3600
        soe = min(limits.soe_max_kwh, max(limits.soe_min_kwh, soe + power * hours))
        cursor = block.end
        points.append({"at": format_datetime(block.end), "soe_kwh": round(soe, 6)})
    if stopped is None and cursor < end:
        stopped = f"no schedule covers {format_datetime(cursor)}"
    return {
        "site_id": config.site_id,
        "from": format_datetime(now),
        "to": format_datetime(end),
        "blocks": [
            {
                "start": format_datetime(block.start),
                "end": format_datetime(block.end),
                "mode": block.mode.value.lower(),
                "power_kw": block.power_kw,
                "max_charge_kw": block.max_charge_kw,
                "priority": int(block.priority),
            }
            for block in blocks
        ],
        "planned_soe": points,
        "projection_complete": stopped is None,
        "projection_ends_because": stopped,
        "method": "fixed-power blocks integrated from the current SoE within the SoE window, "
        "no conversion losses",
    }


def savings_json(entry: BessDispatchConfigEntry) -> dict[str, Any]:
    """Expected: the economics the latest command carried (kept with the schedule book).
    Realised: the gateway knows no tariff, so it cannot price what it measured."""
    book = entry.runtime_data.runtime.dispatcher.book
    return {
        "site_id": entry.runtime_data.config.site_id,
        "expected": expected_savings_json(book.latest_economics, dt_util.utcnow()),
        "realised": {
            "available": False,
            "reason": "the integration knows no tariff (commands carry the plan's total costs, "
            "not prices), so it cannot price the energy it measured; the add-on's "
            "/api/v1/sites/{site_id}/status (realised_economics) shows the measured saving",
        },
    }


def event_json(event: DemandResponseEvent, state: DispatchState) -> dict[str, Any]:
    """An event and what the battery does about it now ("reported back")."""
    status = event.status(state.at)
    body: dict[str, Any] = event.to_dict() | {"status": status.value}
    if status.value == "active":
        obeyed = state.decision.source is ControlSource.DEMAND_RESPONSE
        body["battery"] = decision_json(state) | {
            "following_event": obeyed,
            "overridden_by": None if obeyed else state.decision.source.value,
        }
    return body
