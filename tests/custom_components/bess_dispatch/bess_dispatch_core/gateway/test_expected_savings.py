"""Expected savings from the latest economics: stated while current, withheld once stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bess_dispatch_core.gateway.expected_savings import (
    MAX_ECONOMICS_AGE,
    NO_ECONOMICS,
    expected_savings_json,
    staleness,
)
from bess_dispatch_core.protocol import Priority, ReceivedEconomics, ScheduleEconomics

NOW = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)


def received(as_of: datetime, end: datetime, *, rule: float | None = 990.0) -> ReceivedEconomics:
    economics = ScheduleEconomics(
        "EUR", as_of, as_of - timedelta(hours=1), end, 800.0, 1200.0, rule
    )
    return ReceivedEconomics(economics, "p1-x", Priority.DAY_AHEAD, as_of)


def test_none_received_says_why() -> None:
    assert expected_savings_json(None, NOW) == {"available": False, "reason": NO_ECONOMICS}


def test_current_economics_give_figures_and_derived_savings() -> None:
    body = expected_savings_json(received(NOW, NOW + timedelta(hours=47)), NOW)
    assert body["available"] is True
    assert body["currency"] == "EUR"
    assert body["source"] == {
        "command_id": "p1-x",
        "priority": 1,
        "issued_at": "2026-11-21T04:30:00.000Z",
    }
    assert body["saving_vs_no_battery"] == pytest.approx(400.0)
    assert body["saving_vs_self_consumption"] == pytest.approx(190.0)


def test_a_missing_baseline_is_null_not_invented() -> None:
    body = expected_savings_json(received(NOW, NOW + timedelta(hours=1), rule=None), NOW)
    assert body["self_consumption_cost"] is None
    assert body["saving_vs_self_consumption"] is None


@pytest.mark.parametrize(
    ("age", "end_after_now", "stale"),
    [
        (MAX_ECONOMICS_AGE, timedelta(hours=1), False),  # exactly a day old: still current
        (MAX_ECONOMICS_AGE + timedelta(seconds=1), timedelta(hours=1), True),
        (timedelta(0), timedelta(seconds=1), False),
        (timedelta(0), timedelta(0), True),  # the horizon ends now: nothing left to save
        (timedelta(hours=2), -timedelta(hours=1), True),
    ],
)
def test_staleness_bounds(age: timedelta, end_after_now: timedelta, stale: bool) -> None:
    economics = received(NOW - age, NOW + end_after_now)
    assert (staleness(economics, NOW) is not None) is stale
    body = expected_savings_json(economics, NOW)
    assert body["available"] is not stale
    if stale:
        assert body["source"]["command_id"] == "p1-x"
        assert "plan_cost" not in body
