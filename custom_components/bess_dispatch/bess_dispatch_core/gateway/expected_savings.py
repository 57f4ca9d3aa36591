"""The plan's expected savings as the gateway can state them: from the economics the latest
command carried, or why there are none to state.

Figures older than a day, or whose horizon has passed, describe a plan that no longer
runs; they are withheld rather than shown as current.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..protocol.schedule_book import ReceivedEconomics
from ..protocol.timeformat import format_datetime

MAX_ECONOMICS_AGE = timedelta(hours=24)

NO_ECONOMICS = (
    "no command has carried economics yet: the optimizer sends them with its intraday and "
    "day-ahead layers (protocol 2.4.0) when its tariff names an ISO 4217 currency"
)


def _source(received: ReceivedEconomics) -> dict[str, Any]:
    return {
        "command_id": received.command_id,
        "priority": int(received.priority),
        "issued_at": format_datetime(received.issued_at),
    }


def staleness(received: ReceivedEconomics, now: datetime) -> str | None:
    """Why ``received`` no longer describes the running plan; None while it does."""
    economics = received.economics
    if economics.horizon_end <= now:
        return f"the latest economics' horizon ended at {format_datetime(economics.horizon_end)}"
    if now - economics.as_of > MAX_ECONOMICS_AGE:
        hours = int(MAX_ECONOMICS_AGE.total_seconds() // 3600)
        return (
            f"the latest economics are as of {format_datetime(economics.as_of)}, "
            f"more than {hours} h ago"
        )
    return None


def expected_savings_json(received: ReceivedEconomics | None, now: datetime) -> dict[str, Any]:
    """``available`` with the figures, their source and currency; or not, and why."""
    if received is None:
        return {"available": False, "reason": NO_ECONOMICS}
    economics = received.economics
    stale = staleness(received, now)
    if stale is not None:
        return {
            "available": False,
            "reason": stale,
            "source": _source(received),
            "as_of": format_datetime(economics.as_of),
        }
    return {
        "available": True,
        "source": _source(received),
        "as_of": format_datetime(economics.as_of),
        "currency": economics.currency,
        "horizon_start": format_datetime(economics.horizon_start),
        "horizon_end": format_datetime(economics.horizon_end),
        "plan_cost": economics.plan_cost,
        "no_battery_cost": economics.no_battery_cost,
        "self_consumption_cost": economics.self_consumption_cost,
        "saving_vs_no_battery": economics.saving_vs_no_battery,
        "saving_vs_self_consumption": economics.saving_vs_self_consumption,
    }
