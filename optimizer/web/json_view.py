"""The JSON shapes of the status interface, as the OpenAPI document describes them."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from optimizer.service.status import (
    PlanAlert,
    PlanEconomics,
    PlanPoint,
    PlanQuality,
    PolicyMiss,
    RealisedEconomics,
    SiteStatus,
)

LAYER_NAMES = ("p2", "p1", "p0")


def site_summary_json(status: SiteStatus) -> dict[str, Any]:
    return {"site_id": status.site_id, "connected": status.connected}


def site_status_json(status: SiteStatus) -> dict[str, Any]:
    return {
        "site_id": status.site_id,
        "connected": status.connected,
        "last_telemetry": _time_or_none(status.last_telemetry, "last_telemetry"),
        "soe_kwh": _finite_or_none(status.soe_kwh, "soe_kwh"),
        "last_plan_at": _time_or_none(status.last_plan_at, "last_plan_at"),
        # Always the three layers, so a client need not guess which keys exist.
        "layers": {name: status.layers.get(name) for name in LAYER_NAMES},
        "last_error": status.last_error,
        "plan_quality": _quality_json(status.plan_quality),
        "plan_economics": _economics_json(status.plan_economics),
        "alerts": [_alert_json(alert) for alert in status.alerts],
        "realised_economics": _realised_json(status.realised),
        "policy_misses": [
            _miss_json(index, miss) for index, miss in enumerate(status.policy_misses)
        ],
    }


def _miss_json(index: int, miss: PolicyMiss) -> dict[str, Any]:
    where = f"policy_misses[{index}]: "
    return {
        "at": _time(miss.at, where + "at"),
        "planned_kwh": _finite(miss.planned_kwh, where + "planned_kwh"),
        "min_kwh": _finite(miss.min_kwh, where + "min_kwh"),
        "max_kwh": _finite(miss.max_kwh, where + "max_kwh"),
    }


def _realised_json(realised: RealisedEconomics | None) -> dict[str, Any] | None:
    if realised is None:
        return None
    field = "realised_economics: "
    return {
        name: _finite(getattr(realised, name), field + name)
        for name in (
            "hours",
            "actual_cost",
            "rule_cost",
            "no_battery_cost",
            "saving_vs_rule",
            "saving_vs_no_battery",
        )
    }


def _alert_json(alert: PlanAlert) -> dict[str, Any]:
    return {"code": alert.code, "severity": alert.severity.value, "message": alert.message}


def _economics_json(economics: PlanEconomics | None) -> dict[str, Any] | None:
    if economics is None:
        return None
    field = "plan_economics: "
    return {
        "horizon_hours": _finite(economics.horizon_hours, field + "horizon_hours"),
        "plan_cost": _finite(economics.plan_cost, field + "plan_cost"),
        "rule_cost": _finite(economics.rule_cost, field + "rule_cost"),
        "no_battery_cost": _finite(economics.no_battery_cost, field + "no_battery_cost"),
        "saving_vs_rule": _finite(economics.saving_vs_rule, field + "saving_vs_rule"),
        "saving_vs_no_battery": _finite(
            economics.saving_vs_no_battery, field + "saving_vs_no_battery"
        ),
    }


def _quality_json(quality: PlanQuality | None) -> dict[str, Any] | None:
    if quality is None:
        return None
    return {
        "status": quality.status,
        "gap": _finite_or_none(quality.gap, "plan_quality: gap"),
        "solve_seconds": _finite(quality.solve_seconds, "plan_quality: solve_seconds"),
    }


def plan_json(site_id: str, points: list[PlanPoint]) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "points": [_point_json(index, point) for index, point in enumerate(points)],
    }


def _point_json(index: int, point: PlanPoint) -> dict[str, Any]:
    where = f"plan point {index}"
    return {
        "start": _time(point.start, f"{where}: start"),
        "soe_kwh": _finite(point.soe_kwh, f"{where}: soe_kwh"),
        "battery_kw": _finite(point.battery_kw, f"{where}: battery_kw"),
        "price": _finite(point.price, f"{where}: price"),
        "pv_kw": _finite(point.pv_kw, f"{where}: pv_kw"),
        "load_kw": _finite(point.load_kw, f"{where}: load_kw"),
        "past": bool(point.past),
    }


def _time(value: datetime, field: str) -> str:
    # A naive time would be read in the browser's zone: ambiguous, so refuse it.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} has no time zone: {value.isoformat()}")
    return value.isoformat()


def _time_or_none(value: datetime | None, field: str) -> str | None:
    return None if value is None else _time(value, field)


def _finite(value: float, field: str) -> float:
    # JSON has no NaN/Infinity; json.dumps would emit them and break every client.
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{field} is not a finite number: {value!r}")
    return number


def _finite_or_none(value: float | None, field: str) -> float | None:
    return None if value is None else _finite(value, field)
