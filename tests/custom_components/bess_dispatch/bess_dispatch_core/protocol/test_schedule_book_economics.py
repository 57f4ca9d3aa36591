"""The schedule book keeps the economics of the latest issued command that carried any,
refuses economics "as of" the future, and saves and restores them with the book."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bess_dispatch_core.protocol import (
    Command,
    ErrorCode,
    Priority,
    ReceivedEconomics,
    ScheduleBook,
    ScheduleEconomics,
    ScheduleEntry,
    parse_command,
)

from .test_validation_economics import change, command, economics

NOW = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)


def parse(block: Any) -> Any:
    return parse_command(json.dumps(command(block)).encode(), now=NOW)


def test_as_of_ahead_of_the_gateway_clock_is_refused_by_the_book() -> None:
    later = (NOW + timedelta(minutes=6)).isoformat()
    book = ScheduleBook()
    read = parse(change(as_of=later)).unwrap()
    errors = book.offer(read, now=NOW)
    assert [(error.code, error.path) for error in errors] == [
        (ErrorCode.FIELD_OUT_OF_RANGE, "economics.as_of")
    ]
    assert book.latest_economics is None
    assert len(book) == 0
    # Within the clock skew it is taken.
    within = parse(change(as_of=(NOW + timedelta(minutes=4)).isoformat())).unwrap()
    assert book.offer(within, now=NOW) == ()


def made(command_id: str, issued: datetime, plan_cost: float | None) -> Command:
    priced = (
        None
        if plan_cost is None
        else ScheduleEconomics("EUR", issued, issued, issued + timedelta(hours=48), plan_cost, 9.0)
    )
    entry = ScheduleEntry(issued, issued + timedelta(hours=3), power_kw=1.0)
    return Command.create(
        command_id=command_id,
        priority=Priority.INTRADAY,
        schedule=[entry],
        now=issued,
        economics=priced,
    )


def test_book_keeps_the_latest_issued_economics_and_restores_them() -> None:
    book = ScheduleBook()
    later = NOW + timedelta(minutes=60)
    assert book.offer(made("a", NOW, 5.0), now=NOW) == ()
    # Newer, but without economics: the plan's figures stay.
    assert book.offer(made("b", NOW + timedelta(minutes=30), None), now=later) == ()
    latest = book.latest_economics
    assert latest is not None
    assert (latest.command_id, latest.economics.plan_cost) == ("a", 5.0)
    # An older command arriving late does not replace newer figures.
    assert book.offer(made("c", later, 4.0), now=later) == ()
    assert book.offer(made("d", later - timedelta(minutes=20), 7.0), now=later) == ()
    latest = book.latest_economics
    assert latest is not None
    assert latest.command_id == "c"
    # The figures outlive the command once pruning drops it.
    book.prune(NOW + timedelta(hours=10))
    assert len(book) == 0
    restored = ScheduleBook.from_dict(json.loads(json.dumps(book.to_dict())))
    assert restored.latest_economics == latest


def test_books_saved_before_economics_still_restore() -> None:
    book = ScheduleBook()
    book.offer(made("a", NOW, None), now=NOW)
    saved = book.to_dict()
    del saved["economics"]
    assert ScheduleBook.from_dict(saved).latest_economics is None


@pytest.mark.parametrize(
    "stored",
    [
        "x",
        {"command_id": "c", "priority": 2, "economics": {}},
        {"command_id": "c", "issued_at": "2026-11-21T04:30:00Z", "priority": 5, "economics": {}},
        {"command_id": "c", "issued_at": "2026-11-21T04:30:00Z", "priority": 2, "economics": 1},
        {
            "command_id": "c",
            "issued_at": "2026-11-21T04:30:00Z",
            "priority": 2,
            "economics": economics() | {"currency": "eur"},
        },
    ],
)
def test_damaged_stored_economics_raise(stored: Any) -> None:
    saved = ScheduleBook().to_dict() | {"economics": stored}
    with pytest.raises(ValueError, match="economics"):
        ScheduleBook.from_dict(saved)


def test_received_economics_of_a_command_without_any_is_none() -> None:
    assert ReceivedEconomics.of(made("a", NOW, None)) is None
