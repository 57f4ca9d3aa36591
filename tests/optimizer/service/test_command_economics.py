"""The plan's economics travel on p2 and p1, never on p0: the real service over a real
Mosquitto, read back by the gateway's own parser and schedule book."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bess_dispatch_core.protocol import CommandResponse, Priority, parse_command
from optimizer.service.command_economics import command_economics, iso_currency
from optimizer.simulation.day_run import DayRun
from optimizer.simulation.sample_profiles import DayProfiles, sample_days
from tests.helpers.demo_day import demo_day_run
from tests.plugins.mosquitto_broker import Broker

TOKYO = ZoneInfo("Asia/Tokyo")
FIRST = datetime(2024, 5, 14, tzinfo=TOKYO)


@pytest.fixture
def profiles() -> DayProfiles:
    return sample_days(FIRST, days=2)


@pytest.fixture
def day_run(
    mosquitto_broker: Broker, profiles: DayProfiles, tmp_path: Path
) -> Iterator[tuple[DayRun, list[bytes]]]:
    """The demo site on day 1 and every command payload its gateway received."""
    run = demo_day_run(mosquitto_broker, profiles, tmp_path, soe_kwh=5.0)
    payloads: list[bytes] = []
    receive = run.site.dispatcher.receive

    def spy(payload: bytes | str, *, now: datetime) -> CommandResponse:
        assert isinstance(payload, bytes)
        payloads.append(payload)
        return receive(payload, now=now)

    # The simulated gateway hands every command it gets to its dispatcher.
    run.site.dispatcher.receive = spy  # type: ignore[method-assign]
    run.start()
    try:
        yield run, payloads
    finally:
        run.stop()


def test_p2_and_p1_carry_the_plans_economics_and_p0_none(
    day_run: tuple[DayRun, list[bytes]], profiles: DayProfiles
) -> None:
    run, payloads = day_run
    start = profiles.day(1).start
    run.run(start, start + timedelta(minutes=30))
    assert run.site.received
    assert all(r.accepted for r in run.site.received)

    by_priority: dict[Priority, list[dict[str, object]]] = {p: [] for p in Priority}
    for payload in payloads:
        command = parse_command(payload, now=start).unwrap()
        by_priority[command.priority].append(json.loads(payload))
        if command.priority is Priority.FALLBACK:
            assert command.economics is None
            continue
        economics = command.economics
        assert economics is not None, command.command_id
        assert economics.currency == "JPY"
        assert economics.horizon_end - economics.horizon_start == timedelta(hours=48)
        assert economics.as_of <= command.issued_at
        assert economics.no_battery_cost is not None
        assert economics.self_consumption_cost is not None
    assert all(by_priority[p] for p in Priority), {p: len(v) for p, v in by_priority.items()}
    assert all("economics" not in document for document in by_priority[Priority.FALLBACK])

    # The figures are the plan's own, as the plan page shows them.
    site_id = run.site.settings.site_id
    plan = run.service.current_plan(site_id)
    assert plan is not None
    assert plan.economics is not None
    received = run.site.dispatcher.book.latest_economics
    assert received is not None
    assert received.priority in (Priority.INTRADAY, Priority.DAY_AHEAD)
    assert received.economics.as_of == plan.made_at
    assert received.economics.plan_cost == pytest.approx(plan.economics.plan_cost)
    assert received.economics.no_battery_cost == pytest.approx(plan.economics.no_battery_cost)
    assert received.economics.self_consumption_cost == pytest.approx(plan.economics.rule_cost)
    assert received.economics.saving_vs_no_battery == pytest.approx(
        plan.economics.saving_vs_no_battery
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [("JPY", "JPY"), (" EUR ", "EUR"), ("", None), ("¥", None), ("yen", None), ("EURO", None)],
)
def test_only_an_iso_code_is_sent(text: str, code: str | None) -> None:
    assert iso_currency(text) == code


def test_no_currency_or_bad_figures_send_no_economics(
    day_run: tuple[DayRun, list[bytes]], profiles: DayProfiles
) -> None:
    run, _ = day_run
    start = profiles.day(1).start
    run.run(start, start)
    plan = run.service.current_plan(run.site.settings.site_id)
    assert plan is not None
    assert plan.economics is not None
    assert command_economics(plan, None) is None
    assert command_economics(replace(plan, economics=None), "JPY") is None
    broken = replace(plan, economics=replace(plan.economics, plan_cost=float("nan")))
    assert command_economics(broken, "JPY") is None
    assert command_economics(plan, "JPY") is not None
