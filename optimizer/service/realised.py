"""The realised saving of the last days, from the slots the service measured and stored.

Each measured slot holds the site's average PV, load and battery power and the SoE at its
end (:class:`~optimizer.service.site_memory.PastSlot`). From the first used slot's end on:

- actual: the grid exchange the site had, ``load - pv + battery``, at the prices of the time;
- rule: the self-consumption rule simulated on the same PV and load from the same SoE;
- no battery: ``load - pv`` straight from the grid.

Battery strategies are net of the change in stored energy, valued as the planner values the
energy left at the end of a plan (median price x round-trip efficiency), so a battery that
ends fuller is not counted as having spent more. Slots without a load, a SoE or a known price
are left out; the rule runs over the rest as if they followed each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from optimizer.baselines import no_battery, self_consumption_rule
from optimizer.settings.site import SiteSettings

from .planner import build_site
from .site_memory import SLOT, PastSlot
from .status import RealisedEconomics

REALISED_DAYS = 7
MIN_SLOTS = 2  # the first used slot only gives the starting SoE


def realised_economics(
    history: Sequence[PastSlot],
    prices: Mapping[datetime, float],
    settings: SiteSettings,
    *,
    export_price: float,
    now: datetime,
    days: int = REALISED_DAYS,
) -> RealisedEconomics | None:
    """The last ``days`` before ``now``; None when fewer than MIN_SLOTS slots are usable."""
    since = now - timedelta(days=days)
    used = [
        slot
        for slot in history
        if since <= slot.start < now
        and slot.load_kw is not None
        and slot.soe_kwh is not None
        and slot.start in prices
    ]
    if len(used) < MIN_SLOTS:
        return None
    soe_start = used[0].soe_kwh
    assert soe_start is not None
    span = used[1:]
    price = np.array([prices[slot.start] for slot in span])
    site = build_site(
        settings,
        soe_start,
        prices=price,
        export_price=export_price,
        pv_kw=np.array([slot.pv_kw for slot in span]),
        load_kw=np.array([slot.load_kw for slot in span], dtype=np.float64),
    )
    hours = SLOT.total_seconds() / 3600
    grid = site.load_kw - site.pv_kw + np.array([slot.battery_kw for slot in span])
    tariff = site.tariff
    energy = hours * float(
        tariff.import_price @ np.maximum(grid, 0.0) - tariff.export_price @ np.maximum(-grid, 0.0)
    )
    value = site.battery.terminal_value_per_kwh
    soe_end = span[-1].soe_kwh
    assert soe_end is not None
    rule = self_consumption_rule(site)
    return RealisedEconomics(
        hours=len(span) * hours,
        actual_cost=energy - value * (soe_end - soe_start),
        rule_cost=rule.net_cost + value * soe_start,
        no_battery_cost=no_battery(site).energy_cost,
    )
