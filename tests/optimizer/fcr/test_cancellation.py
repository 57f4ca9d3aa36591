"""Awards more than an hour ahead that cannot be kept are cancelled; closer ones alert."""

from datetime import datetime, timedelta

import numpy as np

from optimizer.fcr.block_calendar import JST
from optimizer.fcr.cancellation import review_awards
from optimizer.fcr.market import FcrBlock, FcrMarket, FcrProduct
from optimizer.model import optimize
from optimizer.site import Battery, Grid, Site, Tariff, Topology

NOW = datetime(2024, 6, 3, 11, 30, tzinfo=JST)


def site(soe: float, awards: tuple[float, float, float]) -> tuple[Site, list[datetime]]:
    blocks = tuple(FcrBlock(6 * k, 6, awarded_kw=kw) for k, kw in enumerate(awards))
    starts = [NOW + timedelta(hours=3 * k) for k in range(3)]
    spot = np.full(18, 10.0)
    built = Site.build(
        topology=Topology.STAND_ALONE,
        battery=Battery(10.0, 5.0, 5.0, soe),
        grid=Grid(5.0, 5.0),
        tariff=Tariff.of(spot, spot),
        fcr=FcrMarket(FcrProduct(), blocks),
    )
    return built, starts


def test_kept_awards_stay() -> None:
    built, starts = site(5.0, (3.0, 3.0, 3.0))
    plan = optimize(built)
    assert review_awards(built, plan, starts, NOW) == ([], [])


def test_an_award_too_big_for_the_battery() -> None:
    # 6 kW awarded on a 5 kW battery in the block 3 h ahead: cancel; an empty battery now
    # cannot hold the first block: too close to cancel, an alert.
    built, starts = site(0.0, (3.0, 6.0, 0.0))
    plan = optimize(built, budget_s=0.5)
    cancel, at_risk = review_awards(built, plan, starts, NOW)
    assert [(c.block_start, c.reason) for c in cancel] == [(starts[1], "capacity")]
    assert cancel[0].kept_kw <= 5.0 + 1e-6
    assert [a.block_start for a in at_risk] == [starts[0]]


def test_lost_telemetry_cancels_every_award_more_than_an_hour_ahead() -> None:
    built, starts = site(5.0, (3.0, 3.0, 3.0))
    plan = optimize(built)
    cancel, at_risk = review_awards(built, plan, starts, NOW, telemetry_lost=True)
    assert [c.block_start for c in cancel] == starts[1:]
    assert {c.reason for c in cancel} == {"telemetry_lost"}
    assert at_risk == []  # the plan keeps the first one: no shortfall to alert
    cancel, _ = review_awards(built, plan, starts, NOW, alerts=("BATTERY_UNREACHABLE",))
    assert {c.reason for c in cancel} == {"alert"}
