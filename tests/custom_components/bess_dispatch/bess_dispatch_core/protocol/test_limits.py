"""The protocol's limits: issued_at skew, bounded answers, no unbounded echo, payload size."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bess_dispatch_core.protocol import (
    CommandResponse,
    ErrorCode,
    ProtocolError,
    ScheduleBook,
    parse_command,
    parse_command_response,
)
from bess_dispatch_core.protocol.limits import (
    MAX_CLOCK_SKEW,
    MAX_ERROR_TEXT,
    MAX_PACKET_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_REPORTED_ERRORS,
)
from bess_dispatch_core.protocol.timeformat import format_datetime

NOW = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)


def p2(command_id: str, power_kw: float, issued_at: datetime) -> bytes:
    start = NOW + timedelta(minutes=30)
    document: dict[str, Any] = {
        "schema_version": "2.3.0",
        "message_id": f"msg-{command_id}",
        "sent_at": format_datetime(NOW),
        "command_id": command_id,
        "issued_at": format_datetime(issued_at),
        "priority": 2,
        "schedule": [
            {
                "start": format_datetime(start),
                "end": format_datetime(start + timedelta(hours=1)),
                "power_kw": power_kw,
            }
        ],
    }
    return json.dumps(document).encode()


def answer(book: ScheduleBook, payload: bytes | str) -> CommandResponse:
    result = parse_command(payload, now=NOW)
    errors = result.errors or (book.offer(result.unwrap(), now=NOW) if result.ok else ())
    if errors:
        return CommandResponse.rejected(
            in_reply_to=result.message_id, command_id=result.command_id, errors=errors, now=NOW
        )
    return CommandResponse.accepted(
        in_reply_to=result.message_id, command_id=result.command_id, now=NOW
    )


def test_a_far_future_issued_at_cannot_outrank_later_commands() -> None:
    """The probe: a p2 issued 2999-01-01, then three normal p2s; the last one must win."""
    book = ScheduleBook()
    future = answer(book, p2("future", 1.0, datetime(2999, 1, 1, tzinfo=UTC)))
    assert future.status == "rejected"
    assert [(e.code, e.path) for e in future.errors] == [
        (ErrorCode.FIELD_OUT_OF_RANGE, "issued_at")
    ]
    for index, power in enumerate((-2.0, -3.0, 0.5)):
        assert answer(book, p2(f"normal-{index}", power, NOW)).status == "accepted"
    resolved = book.resolve(NOW + timedelta(minutes=45))
    assert resolved is not None
    assert resolved.entry.power_kw == 0.5


def test_issued_at_within_the_clock_skew_is_accepted() -> None:
    book = ScheduleBook()
    assert answer(book, p2("skewed", 1.0, NOW + MAX_CLOCK_SKEW)).status == "accepted"
    late = NOW + MAX_CLOCK_SKEW + timedelta(seconds=1)
    assert answer(book, p2("too-far", 1.0, late)).errors[0].path == "issued_at"


def test_thirteen_thousand_empty_entries_get_a_bounded_answer() -> None:
    """The probe: 39 KB of ``{}`` entries made a 2 MB answer the broker refused."""
    document = json.loads(p2("empty", 1.0, NOW))
    document["schedule"] = [{}] * 13_000
    response = answer(ScheduleBook(), json.dumps(document))
    payload = response.to_payload()
    assert len(payload) < 20_000 < MAX_PAYLOAD_BYTES
    assert len(response.errors) == MAX_REPORTED_ERRORS + 1
    assert response.errors[-1].message == "25950 more errors not listed (26000 in all)"
    assert parse_command_response(payload).ok


def test_an_answer_one_over_the_cap_lists_everything() -> None:
    """A bounded list read back (50 + the count) is not cut again."""
    error = ProtocolError(ErrorCode.MISSING_FIELD, "schedule[0].start", "is required")
    response = CommandResponse.rejected(
        in_reply_to=None, command_id=None, errors=[error] * (MAX_REPORTED_ERRORS + 1), now=NOW
    )
    assert response.errors == (error,) * (MAX_REPORTED_ERRORS + 1)


def test_a_huge_value_is_never_echoed() -> None:
    """The probe: mode "M"*12000 came back in a 12,077-character message."""
    for field, value in (("mode", "M" * 12_000), ("start", "2" * 12_000)):
        document = json.loads(p2("echo", 1.0, NOW))
        document["schedule"][0][field] = value
        response = answer(ScheduleBook(), json.dumps(document))
        message = response.errors[0].message
        assert len(message) < 200, field
        assert "12000 characters" in message
        assert parse_command_response(response.to_payload()).ok


def test_error_texts_are_cut_in_the_answer() -> None:
    long = "x" * 50_000
    response = CommandResponse.rejected(
        in_reply_to=None,
        command_id=None,
        errors=[ProtocolError(ErrorCode.INTERNAL_ERROR, long, long)],
        now=NOW,
    )
    assert len(response.errors[0].message) == len(response.errors[0].path) == MAX_ERROR_TEXT
    assert parse_command_response(response.to_payload()).ok


def test_a_payload_over_the_broker_limit_is_refused() -> None:
    document = json.loads(p2("big", 1.0, NOW))
    document["padding"] = "x" * MAX_PAYLOAD_BYTES
    errors = parse_command(json.dumps(document), now=NOW).errors
    assert [(e.code, e.path) for e in errors] == [(ErrorCode.MESSAGE_MALFORMED, "")]
    assert str(MAX_PAYLOAD_BYTES) in errors[0].message
    assert MAX_PAYLOAD_BYTES < MAX_PACKET_BYTES == 4_194_304
