"""Inputs the planner cannot trust, through the real service and a real Mosquitto: a price
feed that stopped, and a home whose telemetry has a gap of days. The gateway must receive the
self-consumption rule for those slots, and the service must raise the alert."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bess_dispatch_core.protocol import ControlMode, Priority
from optimizer.service.plan_alerts import PRICES_MISSING, TELEMETRY_GAP
from optimizer.service.service import OptimizerService
from optimizer.service.site_memory import SLOT, PastSlot, SiteMemory, save_state
from optimizer.simulation.day_run import DayRun, demo_config, sample_site
from optimizer.simulation.sample_profiles import DayProfiles, sample_days
from tests.plugins.mosquitto_broker import Broker

TOKYO = ZoneInfo("Asia/Tokyo")
FIRST = datetime(2024, 5, 14, tzinfo=TOKYO)


@pytest.fixture
def profiles() -> DayProfiles:
    return sample_days(FIRST, days=2)


def _run(
    broker: Broker, tmp_path: Path, profiles: DayProfiles, *, prices_until: datetime, seed: bool
) -> Iterator[DayRun]:
    """The demo site on day 1, its prices ending at ``prices_until``."""
    day = profiles.day(1)
    price_file = tmp_path / "prices.csv"
    lines = ["timestamp,price"]
    moment = day.start - timedelta(days=3)
    while moment < prices_until:
        hour = moment.astimezone(TOKYO).hour
        lines.append(f"{moment.isoformat()},{30.0 if 17 <= hour < 22 else 12.0}")
        moment += SLOT
    price_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = demo_config(
        host=broker.host,
        port=broker.port,
        state_dir=tmp_path / "state",
        price_file=price_file,
        sites=(sample_site(),),
        export_price=profiles.export_price,
    )
    history = profiles.day(0) if seed else None
    run = DayRun.create(config, day, soe_kwh=5.0, start=day.start, history=history)
    run.start()
    try:
        yield run
    finally:
        run.stop()


@pytest.fixture
def stopped_feed(
    mosquitto_broker: Broker, tmp_path: Path, profiles: DayProfiles
) -> Iterator[DayRun]:
    # The last published slot starts 12 h 30 min before day 1: repeating it at most two
    # days covers day 1 up to 12:00 on day 2 (36 h from its start).
    yield from _run(
        mosquitto_broker,
        tmp_path,
        profiles,
        prices_until=profiles.day(1).start - timedelta(hours=12),
        seed=True,
    )


def _mode_at(run: DayRun, at: datetime) -> tuple[ControlMode, Priority]:
    resolved = run.site.dispatcher.book.resolve(at)
    assert resolved is not None
    return resolved.entry.mode, resolved.priority


def test_stopped_price_feed_runs_the_rule_after_the_known_prices(
    stopped_feed: DayRun, profiles: DayProfiles, caplog: pytest.LogCaptureFixture
) -> None:
    start = profiles.day(1).start
    site_id = stopped_feed.site.settings.site_id
    with caplog.at_level(logging.WARNING):
        stopped_feed.run(start, start + timedelta(minutes=30))
    assert all(r.accepted for r in stopped_feed.site.received)

    status = stopped_feed.service.status(site_id)
    assert [alert.code for alert in status.alerts] == [PRICES_MISSING]
    # The last plan was made at 00:30: 35.5 of its 48 h are before 12:00 on day 2.
    assert status.alerts[0].message.startswith("prices known for 35.5 of the 48 h horizon")
    assert any(
        "ALERT" in record.message and PRICES_MISSING in record.message for record in caplog.records
    )
    plan = stopped_feed.service.current_plan(site_id)
    assert plan is not None
    assert all(action.mode is ControlMode.SELF_CONSUMPTION for action in plan.actions[71:])
    # What the gateway holds: the p1 layer says SELF_CONSUMPTION in every untrusted slot.
    for hours in (36, 40, 47.5):
        assert _mode_at(stopped_feed, start + timedelta(hours=hours)) == (
            ControlMode.SELF_CONSUMPTION,
            Priority.DAY_AHEAD,
        )
    # The known part was planned: the evening peak at 30 is worth discharging into.
    assert any(action.mode is not ControlMode.SELF_CONSUMPTION for action in plan.actions[:71])


def test_price_feed_back_clears_the_alert(
    stopped_feed: DayRun, profiles: DayProfiles, tmp_path: Path
) -> None:
    start = profiles.day(1).start
    site_id = stopped_feed.site.settings.site_id
    stopped_feed.run(start, start)
    assert stopped_feed.service.status(site_id).alerts
    profiles.write_price_csv(tmp_path / "prices.csv")  # days 0 and 1: covers 48 h again
    # The file is read again at most hourly.
    stopped_feed.run(start + timedelta(hours=1, minutes=5), start + timedelta(hours=1, minutes=30))
    assert stopped_feed.service.status(site_id).alerts == ()


@pytest.fixture
def gap_of_days(
    mosquitto_broker: Broker, tmp_path: Path, profiles: DayProfiles
) -> Iterator[DayRun]:
    """The site measured for a week, then nothing for eight days until day 1."""
    day = profiles.day(0)
    state = SiteMemory("demo-site", "Asia/Tokyo")
    moment = profiles.day(1).start - timedelta(days=15)
    while moment < profiles.day(1).start - timedelta(days=8):
        index = int((moment - moment.astimezone(TOKYO).replace(hour=0, minute=0)) / SLOT)
        state.measured[moment] = PastSlot(
            moment, float(day.pv_kw[index]), float(day.load_kw[index]), 0.0, 5.0
        )
        moment += SLOT
    save_state(tmp_path / "state", state)
    yield from _run(
        mosquitto_broker,
        tmp_path,
        profiles,
        prices_until=profiles.day(1).start + timedelta(days=2),
        seed=False,
    )


def test_gap_of_days_in_telemetry_runs_the_rule_with_an_alert(
    gap_of_days: DayRun, profiles: DayProfiles, caplog: pytest.LogCaptureFixture
) -> None:
    start = profiles.day(1).start
    site_id = gap_of_days.site.settings.site_id
    with caplog.at_level(logging.WARNING):
        gap_of_days.run(start, start + timedelta(minutes=30))
    assert all(r.accepted for r in gap_of_days.site.received)
    status = gap_of_days.service.status(site_id)
    assert [alert.code for alert in status.alerts] == [TELEMETRY_GAP]
    assert "telemetry covers 0 of the last 7 days" in status.alerts[0].message
    assert any(TELEMETRY_GAP in record.message for record in caplog.records)
    plan = gap_of_days.service.current_plan(site_id)
    assert plan is not None
    assert all(action.mode is ControlMode.SELF_CONSUMPTION for action in plan.actions)
    for hours in (0.5, 3.5, 18, 47.5):
        mode, _priority = _mode_at(gap_of_days, start + timedelta(hours=hours))
        assert mode is ControlMode.SELF_CONSUMPTION


def test_realised_saving_survives_a_restart_from_the_price_file(
    stopped_feed: DayRun, profiles: DayProfiles, tmp_path: Path
) -> None:
    """After a restart the plans' prices are gone; the saving asks the price source."""
    start = profiles.day(1).start
    site_id = stopped_feed.site.settings.site_id
    profiles.write_price_csv(tmp_path / "prices.csv")
    stopped_feed.run(start, start + timedelta(hours=3))
    before = stopped_feed.service.status(site_id).realised
    assert before is not None
    stopped_feed.service.stop()
    restarted = OptimizerService(stopped_feed.service.config, clock=stopped_feed.clock)
    after = restarted.status(site_id).realised
    assert after is not None
    assert after.hours == before.hours
    assert after.actual_cost == pytest.approx(before.actual_cost)
