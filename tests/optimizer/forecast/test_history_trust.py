"""The measured history is trusted for forecasting only with enough recent measured days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from optimizer.forecast.history_trust import (
    MIN_RECENT_DAYS,
    TRUST_DAYS,
    history_problem,
    recent_days_measured,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=TOKYO)
SLOT = timedelta(minutes=30)


@dataclass(frozen=True)
class Slot:
    load_kw: float | None


def days(*offsets: int, load: float | None = 0.5, share: float = 1.0) -> dict[datetime, Slot]:
    """Whole local days ``offsets`` days before NOW's day, ``share`` of their slots measured."""
    midnight = NOW.replace(hour=0)
    slots: dict[datetime, Slot] = {}
    for offset in offsets:
        for index in range(round(48 * share)):
            slots[midnight - timedelta(days=offset) + index * SLOT] = Slot(load)
    return slots


def test_two_recent_days_are_enough() -> None:
    assert recent_days_measured(days(1, 2), NOW, TOKYO, need_load=True) == 2
    assert history_problem(days(1, 2), NOW, TOKYO, need_load=True) is None


def test_a_gap_of_days_is_not_trusted() -> None:
    # A full history that ends eight days ago: every day in the window is missing.
    old = days(*range(8, 30))
    problem = history_problem(old, NOW, TOKYO, need_load=True)
    assert problem == (
        f"telemetry covers 0 of the last {TRUST_DAYS} days "
        f"({MIN_RECENT_DAYS} needed to forecast PV and load)"
    )
    # One day back after the gap is not yet enough; two are.
    assert history_problem({**old, **days(1)}, NOW, TOKYO, need_load=True) is not None
    assert history_problem({**old, **days(1, 3)}, NOW, TOKYO, need_load=True) is None


def test_a_new_site_is_not_trusted() -> None:
    assert history_problem({}, NOW, TOKYO, need_load=False) is not None


def test_todays_slots_and_thin_days_do_not_count() -> None:
    today = {NOW.replace(hour=0) + i * SLOT: Slot(0.5) for i in range(18)}
    assert recent_days_measured({**today, **days(1)}, NOW, TOKYO, need_load=True) == 1
    # Half-measured days (below the load median's 75 % coverage) are not days of history.
    assert recent_days_measured(days(1, 2, share=0.5), NOW, TOKYO, need_load=True) == 0


def test_days_without_load_count_only_for_a_site_without_one() -> None:
    no_load = days(1, 2, load=None)
    assert recent_days_measured(no_load, NOW, TOKYO, need_load=True) == 0
    assert recent_days_measured(no_load, NOW, TOKYO, need_load=False) == 2
