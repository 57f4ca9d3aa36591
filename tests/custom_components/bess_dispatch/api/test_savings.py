"""Expected savings through real HTTP against real Home Assistant: from the economics a
command carried, kept across a reload, withheld when stale, never from a rejected command."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.util import dt as dt_util

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import (
    Command,
    Priority,
    ScheduleEntry,
)
from custom_components.bess_dispatch.bess_dispatch_core.protocol.economics import (
    ScheduleEconomics,
)
from custom_components.bess_dispatch.bess_dispatch_core.protocol.timeformat import (
    format_datetime,
)

from .conftest import SITE_API, Api
from .openapi_schemas import assert_matches, openapi


def now_ms() -> datetime:
    return dt_util.utcnow().replace(microsecond=0)


def priced_command(
    command_id: str,
    *,
    as_of: datetime,
    horizon: tuple[datetime, datetime],
    priority: Priority = Priority.INTRADAY,
    self_consumption_cost: float | None = 990.1,
) -> Command:
    now = now_ms()
    return Command.create(
        command_id=command_id,
        priority=priority,
        schedule=[ScheduleEntry(now, now + timedelta(hours=3), power_kw=1.0)],
        now=now,
        economics=ScheduleEconomics(
            currency="JPY",
            as_of=as_of,
            horizon_start=horizon[0],
            horizon_end=horizon[1],
            plan_cost=812.4,
            no_battery_cost=1203.0,
            self_consumption_cost=self_consumption_cost,
        ),
    )


async def send(api: Api, command: Command | bytes) -> Any:
    payload = command if isinstance(command, bytes) else command.to_payload()
    return await api.runtime.async_handle_command_payload(payload)


async def savings(api: Api, role: str = "homeowner") -> dict[str, Any]:
    status, body, _ = await api.call(role, "GET", f"{SITE_API}/savings")
    assert status == 200, body
    assert_matches("Savings", body)
    expected: dict[str, Any] = body["expected"]
    return expected


async def test_expected_savings_come_from_the_latest_command(api: Api) -> None:
    now = now_ms()
    command = priced_command("p2-priced", as_of=now, horizon=(now, now + timedelta(hours=48)))
    assert (await send(api, command)).status == "accepted"
    for role in ("homeowner", "installer"):
        expected = await savings(api, role)
        assert expected["available"] is True
        assert expected["source"] == {
            "command_id": "p2-priced",
            "priority": 2,
            "issued_at": format_datetime(command.issued_at),
        }
        assert expected["as_of"] == format_datetime(now)
        assert expected["currency"] == "JPY"
        assert expected["horizon_end"] == format_datetime(now + timedelta(hours=48))
        assert expected["plan_cost"] == 812.4
        assert expected["no_battery_cost"] == 1203.0
        assert expected["self_consumption_cost"] == 990.1
        assert expected["saving_vs_no_battery"] == pytest.approx(1203.0 - 812.4)
        assert expected["saving_vs_self_consumption"] == pytest.approx(990.1 - 812.4)
    # The utility sees no savings, as before.
    status, _, _ = await api.call("utility", "GET", f"{SITE_API}/savings")
    assert status == 403


async def test_a_newer_command_without_economics_keeps_the_plans_figures(api: Api) -> None:
    now = now_ms()
    day_ahead = priced_command(
        "p1-priced",
        as_of=now,
        horizon=(now, now + timedelta(hours=48)),
        priority=Priority.DAY_AHEAD,
        self_consumption_cost=None,
    )
    assert (await send(api, day_ahead)).status == "accepted"
    plain = Command.create(
        command_id="p2-plain",
        priority=Priority.INTRADAY,
        schedule=[ScheduleEntry(now, now + timedelta(hours=3), power_kw=-1.0)],
        now=now,
    )
    assert (await send(api, plain)).status == "accepted"
    expected = await savings(api)
    assert expected["available"] is True
    assert expected["source"]["command_id"] == "p1-priced"
    assert expected["source"]["priority"] == 1
    assert expected["self_consumption_cost"] is None
    assert expected["saving_vs_self_consumption"] is None


async def test_economics_older_than_a_day_are_withheld(api: Api) -> None:
    now = now_ms()
    old = now - timedelta(hours=25)
    command = priced_command("p1-old", as_of=old, horizon=(old, old + timedelta(hours=48)))
    assert (await send(api, command)).status == "accepted"
    expected = await savings(api)
    assert expected["available"] is False
    assert "more than 24 h ago" in expected["reason"]
    assert expected["source"]["command_id"] == "p1-old"
    assert expected["as_of"] == format_datetime(old)
    assert "plan_cost" not in expected


async def test_economics_whose_horizon_passed_are_withheld(api: Api) -> None:
    now = now_ms()
    horizon = (now - timedelta(hours=3), now - timedelta(minutes=1))
    command = priced_command("p2-ended", as_of=now - timedelta(hours=1), horizon=horizon)
    assert (await send(api, command)).status == "accepted"
    expected = await savings(api)
    assert expected["available"] is False
    assert expected["reason"] == (
        f"the latest economics' horizon ended at {format_datetime(horizon[1])}"
    )


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("currency", "yen", "FIELD_OUT_OF_RANGE"),
        ("plan_cost", "NaN", "FIELD_OUT_OF_RANGE"),
        ("plan_cost", "812", "TYPE_MISMATCH"),
        ("as_of", "2026-13-01T00:00:00Z", "TYPE_MISMATCH"),
    ],
)
async def test_a_bad_economics_block_rejects_the_command(
    api: Api, field: str, value: Any, code: str
) -> None:
    now = now_ms()
    command = priced_command("p2-bad", as_of=now, horizon=(now, now + timedelta(hours=48)))
    document = command.to_dict()
    document["economics"][field] = float("nan") if value == "NaN" else value
    response = await send(api, json.dumps(document).encode())
    assert response.status == "rejected"
    assert [(error.code, error.path) for error in response.errors] == [(code, f"economics.{field}")]
    # Nothing of a rejected command is kept: neither its schedule nor its economics.
    assert api.runtime.dispatcher.book.commands == ()
    expected = await savings(api)
    assert expected["available"] is False
    assert expected["reason"].startswith("no command has carried economics yet")


async def test_economics_are_kept_across_a_reload(api: Api) -> None:
    now = now_ms()
    command = priced_command("p2-kept", as_of=now, horizon=(now, now + timedelta(hours=48)))
    assert (await send(api, command)).status == "accepted"
    assert await api.hass.config_entries.async_reload(api.entry.entry_id)
    await api.hass.async_block_till_done()
    expected = await savings(api)
    assert expected["available"] is True
    assert expected["source"]["command_id"] == "p2-kept"
    assert expected["plan_cost"] == 812.4


async def test_realised_savings_say_why_they_are_not_available(api: Api) -> None:
    status, body, _ = await api.call("homeowner", "GET", f"{SITE_API}/savings")
    assert status == 200
    assert body["realised"]["available"] is False
    assert "knows no tariff" in body["realised"]["reason"]


def test_the_documented_example_matches_the_schema() -> None:
    for example in openapi()["components"]["schemas"]["ExpectedSavings"]["examples"]:
        assert_matches("ExpectedSavings", example)


async def test_economics_on_any_layer_are_served(api: Api) -> None:
    # The bundled optimizer prices p2 and p1 only; the protocol allows any layer.
    now = now_ms()
    fallback = priced_command(
        "p0-priced", as_of=now, horizon=(now, now + timedelta(days=7)), priority=Priority.FALLBACK
    )
    assert (await send(api, fallback)).status == "accepted"
    expected = await savings(api)
    assert expected["available"] is True
    assert expected["source"]["priority"] == 0
