"""A StatusSource over plain dicts and a realistic plan: stands in for the optimizer service
in the web tests (the web layer only reads this interface)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from bess_dispatch_core.protocol.alert import Severity
from optimizer.service.plan_alerts import PRICES_MISSING, PlanAlert
from optimizer.service.status import (
    PlanEconomics,
    PlanPoint,
    PlanQuality,
    PolicyMiss,
    RealisedEconomics,
    SiteStatus,
)

JST = timezone(timedelta(hours=9))
PLAN_START = datetime(2026, 11, 21, 0, 0, tzinfo=JST)
SLOT = timedelta(minutes=30)
PAST_SLOTS = 14  # "now" is 07:00
CAPACITY_KWH = 10.0


@dataclass
class InMemoryStatusSource:
    """Implements optimizer.service.status.StatusSource over plain dicts."""

    statuses: dict[str, SiteStatus] = field(default_factory=dict)
    plans: dict[str, list[PlanPoint]] = field(default_factory=dict)

    def site_ids(self) -> list[str]:
        return list(self.statuses)

    def status(self, site_id: str) -> SiteStatus:
        return self.statuses[site_id]

    def plan(self, site_id: str) -> list[PlanPoint]:
        return self.plans[site_id]


def sample_plan(slots: int = 96) -> list[PlanPoint]:
    """Two days: charge on cheap night power, PV around noon, discharge at the evening peak."""
    points = []
    soe = 3.0
    for index in range(slots):
        start = PLAN_START + index * SLOT
        hour = start.hour + start.minute / 60
        pv = max(0.0, 4.0 * math.sin(math.pi * (hour - 6) / 12)) if 6 < hour < 18 else 0.0
        load = 0.4 + (1.2 if 17 <= hour < 22 else 0.0) + (0.5 if 6 <= hour < 9 else 0.0)
        price = 12.0 + (14.0 if 17 <= hour < 21 else 0.0) + (6.0 if 8 <= hour < 17 else 0.0)
        if hour < 5:
            battery = 1.5
        elif 17 <= hour < 22:
            battery = -1.6
        else:
            battery = min(pv - load, 2.0) if pv > load else 0.0
        battery = max(-soe / 0.5, min(battery, (CAPACITY_KWH - soe) / 0.5))
        points.append(
            PlanPoint(
                start=start,
                soe_kwh=round(soe, 3),
                battery_kw=round(battery, 3),
                price=price,
                pv_kw=round(pv, 3),
                load_kw=load,
                past=index < PAST_SLOTS,
            )
        )
        soe += battery * 0.5
    return points


def sample_status(site_id: str, *, connected: bool = True) -> SiteStatus:
    now = PLAN_START + PAST_SLOTS * SLOT
    return SiteStatus(
        site_id=site_id,
        connected=connected,
        last_telemetry=now - timedelta(seconds=20) if connected else None,
        soe_kwh=6.2 if connected else None,
        last_plan_at=now - timedelta(minutes=4),
        layers={"p2": "p2-0007", "p1": "p1-0002", "p0": None},
        last_error=None if connected else "no telemetry for 15 min",
        # A plan from a hard price day: the budget ran out 0.62 % from the proven bound.
        plan_quality=PlanQuality("feasible", 0.0062, 0.81) if connected else None,
        plan_economics=PlanEconomics(48.0, 512.5, 530.0, 801.25) if connected else None,
        # A Pleevi policy the plan cannot meet (at least 80 % of 10 kWh an hour from now).
        policy_misses=(PolicyMiss(now + timedelta(hours=1), 6.5, 8.0, 10.0),) if connected else (),
        alerts=(
            PlanAlert(
                PRICES_MISSING,
                Severity.WARNING,
                "prices known for 40 of the 48 h horizon; "
                "the self-consumption rule runs after that",
            ),
        )
        if connected
        else (),
        realised=RealisedEconomics(167.5, 2100.0, 2160.5, 3300.0) if connected else None,
    )
