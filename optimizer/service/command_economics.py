"""The plan's expected economics as the protocol carries them on the p2 and p1 commands."""

from __future__ import annotations

import logging

from bess_dispatch_core.protocol import ScheduleEconomics
from bess_dispatch_core.protocol.economics import CURRENCY_CODE

from .planner import SitePlan
from .site_memory import SLOT

_LOGGER = logging.getLogger(__name__)


def iso_currency(text: str) -> str | None:
    """The tariff's currency when it is written as an ISO 4217 code (JPY, EUR); None for
    anything else (empty, "¥", "yen"): guessing a code could name the wrong currency."""
    code = text.strip()
    return code if CURRENCY_CODE.fullmatch(code) else None


def command_economics(plan: SitePlan, currency: str | None) -> ScheduleEconomics | None:
    """What ``plan`` is expected to cost over its whole horizon, as of when it was made.

    None when there is nothing honest to send: no currency, no economics computed, or
    figures the protocol would refuse (a command is never withheld for its economics).
    """
    economics = plan.economics
    if currency is None or economics is None:
        return None
    start = plan.slot_starts[0]
    try:
        return ScheduleEconomics(
            currency=currency,
            as_of=plan.made_at,
            horizon_start=start,
            horizon_end=start + len(plan.slot_starts) * SLOT,
            plan_cost=economics.plan_cost,
            no_battery_cost=economics.no_battery_cost,
            self_consumption_cost=economics.rule_cost,
        )
    except ValueError as error:
        _LOGGER.warning("plan economics not sent: %s", error)
        return None
