"""Whether a site's measured history is recent enough to forecast its PV and load from.

The forecasts (:mod:`optimizer.service.site_forecast`) read the last weeks of measured
slots. After a gap of days they would reach back to weeks-old days, and a new site has only
flat starting profiles (zero PV): a plan on either is a plan on stale data or on zeros. So the
history is trusted only when at least :data:`MIN_RECENT_DAYS` of the last
:data:`TRUST_DAYS` local days are measured (each covered to the load median's
``MIN_DAY_COVERAGE``, with the load where the site has one); otherwise the planner runs the
self-consumption rule, which follows the real PV and load by itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from .load_median import MIN_DAY_COVERAGE

TRUST_DAYS = 7
MIN_RECENT_DAYS = 2
SLOTS_PER_DAY = 48


class MeasuredSlot(Protocol):
    @property
    def load_kw(self) -> float | None: ...


def recent_days_measured(
    measured: Mapping[datetime, MeasuredSlot],
    before: datetime,
    zone: ZoneInfo,
    *,
    need_load: bool,
    days: int = TRUST_DAYS,
) -> int:
    """How many of the ``days`` local days before the one holding ``before`` are measured."""
    today = before.astimezone(zone).date()
    first = today - timedelta(days=days)
    per_day: Counter[date] = Counter()
    for start, slot in measured.items():
        day = start.astimezone(zone).date()
        if first <= day < today and (slot.load_kw is not None or not need_load):
            per_day[day] += 1
    return sum(1 for count in per_day.values() if count >= MIN_DAY_COVERAGE * SLOTS_PER_DAY)


def history_problem(
    measured: Mapping[datetime, MeasuredSlot],
    before: datetime,
    zone: ZoneInfo,
    *,
    need_load: bool,
) -> str | None:
    """Why the history cannot be forecast from at ``before``; None when it can."""
    seen = recent_days_measured(measured, before, zone, need_load=need_load)
    if seen >= MIN_RECENT_DAYS:
        return None
    return (
        f"telemetry covers {seen} of the last {TRUST_DAYS} days "
        f"({MIN_RECENT_DAYS} needed to forecast PV and load)"
    )
