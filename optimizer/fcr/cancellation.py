"""Awards to cancel: those more than an hour ahead that the battery can no longer honour.

An award is at risk when the latest plan keeps less capacity than awarded (SoC or limits), or
when the gateway cannot be trusted to keep the band (an alert, lost telemetry). Cancelling more
than an hour ahead lets the aggregator cover it from its pool; closer in, the award stays and
the shortfall is the alert the caller raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..result import Plan
from ..site import Site

NOTICE = timedelta(hours=1)
_TOL_KW = 1e-3  # 1 W: solver and rounding dust is no reason to cancel


@dataclass(frozen=True, slots=True)
class Cancellation:
    block_start: datetime
    awarded_kw: float
    kept_kw: float  # what the plan could keep
    reason: str  # "capacity", "telemetry_lost", "alert"


@dataclass(frozen=True, slots=True)
class AtRisk:
    """An award the plan cannot keep, too close to cancel: the caller raises an alert."""

    block_start: datetime
    awarded_kw: float
    kept_kw: float


def review_awards(
    site: Site,
    plan: Plan,
    block_starts: Sequence[datetime],
    now: datetime,
    *,
    telemetry_lost: bool = False,
    alerts: Sequence[str] = (),
) -> tuple[list[Cancellation], list[AtRisk]]:
    """Cancellations (> 1 h ahead) and awards at risk (closer) for ``plan`` of ``site``.

    ``block_starts`` gives the start of each block of ``site.fcr`` in order.
    """
    market = site.fcr
    if market is None:
        return [], []
    if len(block_starts) != len(market.blocks):
        raise ValueError("block_starts: one start per block of site.fcr")
    cancel: list[Cancellation] = []
    at_risk: list[AtRisk] = []
    for index, (block, start) in enumerate(zip(market.blocks, block_starts, strict=True)):
        award = block.awarded_kw
        if award is None or award <= 0:
            continue
        kept = float(plan.fcr_kw[index]) if plan.fcr_kw.shape[0] else 0.0
        reason = None
        if telemetry_lost:
            reason = "telemetry_lost"
        elif alerts:
            reason = "alert"
        elif kept < award - _TOL_KW:
            reason = "capacity"
        if reason is None:
            continue
        if start - now > NOTICE:
            cancel.append(Cancellation(start, award, kept, reason))
        elif kept < award - _TOL_KW:
            at_risk.append(AtRisk(start, award, kept))
    return cancel, at_risk
