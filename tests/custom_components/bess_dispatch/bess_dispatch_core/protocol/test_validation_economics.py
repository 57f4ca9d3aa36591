"""A command's optional ``economics``: read when valid, the command rejected when not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bess_dispatch_core.protocol import (
    Command,
    ErrorCode,
    Priority,
    ScheduleEconomics,
    ScheduleEntry,
    parse_command,
)

NOW = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)


def economics() -> dict[str, Any]:
    return {
        "currency": "JPY",
        "as_of": "2026-11-21T04:30:00.000Z",
        "horizon_start": "2026-11-21T04:30:00.000Z",
        "horizon_end": "2026-11-23T04:30:00.000Z",
        "plan_cost": 812.4,
        "no_battery_cost": 1203.0,
        "self_consumption_cost": 990.1,
    }


def command(block: Any) -> dict[str, Any]:
    return {
        "schema_version": "2.4.0",
        "message_id": "m-1",
        "sent_at": "2026-11-21T04:30:00.000Z",
        "command_id": "c-1",
        "issued_at": "2026-11-21T04:30:00.000Z",
        "priority": 2,
        "schedule": [
            {"start": "2026-11-21T04:30:00Z", "end": "2026-11-21T05:00:00Z", "power_kw": 2.0}
        ],
        "economics": block,
    }


def parse(block: Any) -> Any:
    # Through JSON text; NaN and Infinity are what Python's json writes for them.
    return parse_command(json.dumps(command(block)).encode(), now=NOW)


def test_economics_are_read_and_savings_derived() -> None:
    result = parse(economics())
    read = result.unwrap().economics
    assert read is not None
    assert read.currency == "JPY"
    assert read.as_of == NOW
    assert read.horizon_end - read.horizon_start == timedelta(hours=48)
    assert read.saving_vs_no_battery == pytest.approx(1203.0 - 812.4)
    assert read.saving_vs_self_consumption == pytest.approx(990.1 - 812.4)
    # Written back exactly as read.
    assert result.unwrap().to_dict()["economics"] == economics()


def test_no_economics_and_null_economics_mean_none() -> None:
    without = command(None)
    del without["economics"]
    for document in (without, command(None)):
        result = parse_command(json.dumps(document).encode(), now=NOW)
        assert result.unwrap().economics is None
        assert "economics" not in result.unwrap().to_dict()


def test_one_baseline_is_enough_and_unknown_fields_are_ignored() -> None:
    block = economics() | {"rule_version": 7, "notes": {"any": "thing"}}
    del block["self_consumption_cost"]
    read = parse(block).unwrap().economics
    assert read is not None
    assert read.self_consumption_cost is None
    assert read.saving_vs_self_consumption is None
    assert read.saving_vs_no_battery == pytest.approx(1203.0 - 812.4)


def change(**fields: Any) -> dict[str, Any]:
    return economics() | fields


def without(*names: str) -> dict[str, Any]:
    block = economics()
    for name in names:
        del block[name]
    return block


BAD = [
    # The block itself.
    pytest.param([], ErrorCode.TYPE_MISMATCH, "economics", id="array"),
    pytest.param(12, ErrorCode.TYPE_MISMATCH, "economics", id="number"),
    pytest.param("JPY", ErrorCode.TYPE_MISMATCH, "economics", id="string"),
    # currency
    pytest.param(without("currency"), ErrorCode.MISSING_FIELD, "economics.currency", id="no-cur"),
    pytest.param(change(currency=392), ErrorCode.TYPE_MISMATCH, "economics.currency", id="cur-num"),
    pytest.param(change(currency="jpy"), ErrorCode.FIELD_OUT_OF_RANGE, "economics.currency"),
    pytest.param(change(currency="YEN!"), ErrorCode.FIELD_OUT_OF_RANGE, "economics.currency"),
    pytest.param(change(currency="€"), ErrorCode.FIELD_OUT_OF_RANGE, "economics.currency"),
    pytest.param(change(currency=""), ErrorCode.FIELD_OUT_OF_RANGE, "economics.currency"),
    pytest.param(change(currency="E" * 500), ErrorCode.FIELD_OUT_OF_RANGE, "economics.currency"),
    # timestamps
    pytest.param(without("as_of"), ErrorCode.MISSING_FIELD, "economics.as_of", id="no-as-of"),
    pytest.param(change(as_of=1700000000), ErrorCode.TYPE_MISMATCH, "economics.as_of"),
    pytest.param(change(as_of="2026-11-21T04:30:00"), ErrorCode.TYPE_MISMATCH, "economics.as_of"),
    pytest.param(change(as_of="yesterday"), ErrorCode.TYPE_MISMATCH, "economics.as_of"),
    pytest.param(
        change(horizon_start="2026-02-30T00:00:00Z"),
        ErrorCode.TYPE_MISMATCH,
        "economics.horizon_start",
        id="feb-30",
    ),
    pytest.param(without("horizon_end"), ErrorCode.MISSING_FIELD, "economics.horizon_end"),
    pytest.param(
        change(horizon_end="2026-11-21T04:30:00.000Z"),
        ErrorCode.TIME_WINDOW_INVALID,
        "economics.horizon_end",
        id="empty-horizon",
    ),
    pytest.param(
        change(horizon_end="2026-11-20T04:30:00.000Z"),
        ErrorCode.TIME_WINDOW_INVALID,
        "economics.horizon_end",
        id="reversed-horizon",
    ),
    pytest.param(
        change(horizon_end="2027-11-23T04:30:00.000Z"),
        ErrorCode.FIELD_OUT_OF_RANGE,
        "economics.horizon_end",
        id="horizon-over-a-year",
    ),
    # amounts
    pytest.param(without("plan_cost"), ErrorCode.MISSING_FIELD, "economics.plan_cost"),
    pytest.param(change(plan_cost="812"), ErrorCode.TYPE_MISMATCH, "economics.plan_cost"),
    pytest.param(change(plan_cost=True), ErrorCode.TYPE_MISMATCH, "economics.plan_cost"),
    pytest.param(
        change(plan_cost=float("nan")), ErrorCode.FIELD_OUT_OF_RANGE, "economics.plan_cost"
    ),
    pytest.param(
        change(plan_cost=float("inf")), ErrorCode.FIELD_OUT_OF_RANGE, "economics.plan_cost"
    ),
    pytest.param(change(plan_cost=2e12), ErrorCode.FIELD_OUT_OF_RANGE, "economics.plan_cost"),
    pytest.param(change(plan_cost=10**400), ErrorCode.FIELD_OUT_OF_RANGE, "economics.plan_cost"),
    pytest.param(
        change(no_battery_cost=-float("inf")),
        ErrorCode.FIELD_OUT_OF_RANGE,
        "economics.no_battery_cost",
    ),
    pytest.param(
        change(no_battery_cost=[1.0]), ErrorCode.TYPE_MISMATCH, "economics.no_battery_cost"
    ),
    pytest.param(
        change(self_consumption_cost=-1.5e12),
        ErrorCode.FIELD_OUT_OF_RANGE,
        "economics.self_consumption_cost",
    ),
    pytest.param(
        change(self_consumption_cost={"value": 1}),
        ErrorCode.TYPE_MISMATCH,
        "economics.self_consumption_cost",
    ),
    pytest.param(
        without("no_battery_cost", "self_consumption_cost"),
        ErrorCode.MISSING_FIELD,
        "economics.no_battery_cost",
        id="no-baseline",
    ),
]


@pytest.mark.parametrize(("block", "code", "path"), BAD)
def test_bad_economics_reject_the_command(block: Any, code: ErrorCode, path: str) -> None:
    result = parse(block)
    assert not result.ok
    assert (code, path) in [(error.code, error.path) for error in result.errors], result.errors
    # The rejection still says what it replies to, and the message quotes no long input.
    assert result.command_id == "c-1"
    assert all(len(error.message) < 300 for error in result.errors)


def test_every_broken_field_is_reported_at_once() -> None:
    result = parse(change(currency="eur", plan_cost=float("nan"), as_of="soon"))
    assert sorted((error.path, error.code) for error in result.errors) == [
        ("economics.as_of", ErrorCode.TYPE_MISMATCH),
        ("economics.currency", ErrorCode.FIELD_OUT_OF_RANGE),
        ("economics.plan_cost", ErrorCode.FIELD_OUT_OF_RANGE),
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"currency": 3}, "currency must be a string"),
        ({"currency": "eur"}, "ISO 4217"),
        ({"as_of": datetime(2026, 1, 1)}, "as_of must be a timezone-aware"),
        ({"plan_cost": None}, "plan_cost is required"),
        ({"plan_cost": "1"}, "plan_cost must be a number"),
        ({"plan_cost": float("nan")}, "plan_cost"),
        ({"no_battery_cost": None}, "a saving needs a baseline"),
        ({"horizon_end": NOW}, "horizon_end"),
    ],
)
def test_constructor_refuses_what_the_parser_refuses(fields: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {
        "currency": "EUR",
        "as_of": NOW,
        "horizon_start": NOW,
        "horizon_end": NOW + timedelta(hours=3),
        "plan_cost": 1.0,
        "no_battery_cost": 2.0,
    } | fields
    with pytest.raises(ValueError, match=message):
        ScheduleEconomics(**values)


def test_command_refuses_economics_of_another_type() -> None:
    entry = ScheduleEntry(NOW, NOW + timedelta(hours=1), power_kw=1.0)
    with pytest.raises(ValueError, match="economics"):
        Command.create(
            command_id="c",
            priority=Priority.INTRADAY,
            schedule=[entry],
            now=NOW,
            economics={"currency": "EUR"},  # type: ignore[arg-type]
        )
