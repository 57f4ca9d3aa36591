"""parse_command: every error code, field paths, and "never raises" under fuzzing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bess_dispatch_core.protocol import (
    MAX_SCHEDULE_ENTRIES,
    Command,
    CommandResponse,
    ControlMode,
    ErrorCode,
    Priority,
    ProtocolError,
    ProtocolValidationError,
    ScheduleBook,
    ScheduleEntry,
    command_from_dict,
    parse_command,
    parse_command_response,
)

NOW = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)


def valid_command() -> dict[str, Any]:
    return {
        "schema_version": "2.3.0",
        "message_id": "0f8c2a7e-5d1b-4f3a-9c6e-2b7d8e9f0a1b",
        "sent_at": "2026-11-21T04:30:00.120Z",
        "command_id": "plan-2026-11-21T05:00Z-p2",
        "issued_at": "2026-11-21T04:30:05Z",
        "priority": 2,
        "schedule": [
            {"start": "2026-11-21T05:00:00Z", "end": "2026-11-21T05:30:00Z", "power_kw": -2.5},
            {
                "start": "2026-11-21T05:30:00Z",
                "end": "2026-11-21T06:00:00Z",
                "mode": "NO_DISCHARGE",
            },
            {
                "start": "2026-11-21T15:00:00+09:00",
                "end": "2026-11-21T16:00:00+09:00",
                "mode": "LIMIT_CHARGE",
                "max_charge_kw": 1.0,
            },
            {"start": "2026-11-21T07:00:00Z", "end": "2026-11-21T07:30:00Z", "mode": "IDLE"},
        ],
    }


def payload_of(document: Any) -> bytes:
    return json.dumps(document).encode()


def mutated(change: Callable[[dict[str, Any]], None]) -> bytes:
    document = valid_command()
    change(document)
    return payload_of(document)


def test_valid_command_is_read() -> None:
    result = parse_command(payload_of(valid_command()), now=NOW)
    command = result.unwrap()
    assert result.ok
    assert result.message_id == "0f8c2a7e-5d1b-4f3a-9c6e-2b7d8e9f0a1b"
    assert result.command_id == command.command_id
    assert command.priority is Priority.INTRADAY
    assert [entry.mode for entry in command.schedule] == [
        ControlMode.SETPOINT,
        ControlMode.NO_DISCHARGE,
        ControlMode.LIMIT_CHARGE,
        ControlMode.IDLE,
    ]
    assert command.schedule[2].start == datetime(2026, 11, 21, 6, tzinfo=UTC)
    # Round trip through the wire form keeps the command equal.
    assert parse_command(command.to_payload(), now=NOW).unwrap() == command
    assert parse_command(command.to_payload().decode(), now=NOW).unwrap() == command


def test_unknown_fields_and_newer_minor_are_accepted() -> None:
    document = valid_command()
    document["schema_version"] = "2.9.1"
    document["future_field"] = {"anything": [1, 2]}
    document["schedule"][0]["future_entry_field"] = True
    assert parse_command(payload_of(document), now=NOW).ok


def _duplicate(payload: bytes) -> tuple[ProtocolError, ...]:
    book = ScheduleBook()
    command = parse_command(payload, now=NOW).unwrap()
    assert book.offer(command, now=NOW) == ()
    return book.offer(command, now=NOW)


def _resource_unavailable(payload: bytes) -> tuple[ProtocolError, ...]:
    command = parse_command(payload, now=NOW).unwrap()
    error = ProtocolError(ErrorCode.RESOURCE_UNAVAILABLE, "", "battery unreachable")
    response = CommandResponse.accepted(
        in_reply_to=command.message_id, command_id=command.command_id, now=NOW, errors=[error]
    )
    return parse_command_response(response.to_payload()).unwrap().errors


def _internal_error(payload: bytes) -> tuple[ProtocolError, ...]:
    # A naive "now" cannot be compared with the entries: a bug in the caller, reported
    # as INTERNAL_ERROR rather than raised.
    return parse_command(payload, now=datetime(2026, 11, 21, 4, 30)).errors


def _parse(payload: bytes) -> tuple[ProtocolError, ...]:
    return parse_command(payload, now=NOW).errors


# One case per error code: (payload, how to process it, expected code, expected path).
ERROR_CODE_CASES = [
    pytest.param(b"{not json", _parse, ErrorCode.MESSAGE_MALFORMED, "", id="MESSAGE_MALFORMED"),
    pytest.param(
        mutated(lambda d: d.pop("priority")),
        _parse,
        ErrorCode.MISSING_FIELD,
        "priority",
        id="MISSING_FIELD",
    ),
    pytest.param(
        mutated(lambda d: d.update(priority="2")),
        _parse,
        ErrorCode.TYPE_MISMATCH,
        "priority",
        id="TYPE_MISMATCH",
    ),
    pytest.param(
        mutated(lambda d: d.update(priority=3)),
        _parse,
        ErrorCode.FIELD_OUT_OF_RANGE,
        "priority",
        id="FIELD_OUT_OF_RANGE",
    ),
    pytest.param(
        mutated(lambda d: d["schedule"][1].update(end="2026-11-21T05:30:00Z")),
        _parse,
        ErrorCode.TIME_WINDOW_INVALID,
        "schedule[1].end",
        id="TIME_WINDOW_INVALID",
    ),
    pytest.param(
        payload_of(valid_command()), _duplicate, ErrorCode.DUPLICATE, "message_id", id="DUPLICATE"
    ),
    pytest.param(
        mutated(lambda d: d.update(schedule=d["schedule"][:1])),
        lambda p: parse_command(p, now=NOW + timedelta(hours=1)).errors,
        ErrorCode.EXPIRED,
        "schedule",
        id="EXPIRED",
    ),
    pytest.param(
        payload_of(valid_command()),
        _resource_unavailable,
        ErrorCode.RESOURCE_UNAVAILABLE,
        "",
        id="RESOURCE_UNAVAILABLE",
    ),
    pytest.param(
        payload_of(valid_command()),
        _internal_error,
        ErrorCode.INTERNAL_ERROR,
        "",
        id="INTERNAL_ERROR",
    ),
]


@pytest.mark.parametrize(("payload", "process", "code", "path"), ERROR_CODE_CASES)
def test_each_error_code(
    payload: bytes,
    process: Callable[[bytes], tuple[ProtocolError, ...]],
    code: ErrorCode,
    path: str,
) -> None:
    errors = process(payload)
    assert (code, path) in [(error.code, error.path) for error in errors]


def test_error_code_table_covers_all_nine_codes() -> None:
    assert {case.values[2] for case in ERROR_CODE_CASES} == set(ErrorCode)
    assert len(ErrorCode) == 9


def _set_entry(index: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["schedule"][index].update(fields)


def _drop_entry_field(index: int, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["schedule"][index].pop(key)


# Field-level cases: the mutation, and the exact (code, path) pairs expected.
FIELD_CASES: list[Any] = [
    pytest.param(
        lambda d: d.update(schema_version="3.0.0"),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schema_version")],
        id="major-3",
    ),
    pytest.param(
        lambda d: d.update(schema_version="1.9.0"),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schema_version")],
        id="major-1",
    ),
    pytest.param(
        lambda d: d.update(schema_version="2.3"),
        [(ErrorCode.TYPE_MISMATCH, "schema_version")],
        id="version-two-parts",
    ),
    pytest.param(
        lambda d: d.update(schema_version=2.3),
        [(ErrorCode.TYPE_MISMATCH, "schema_version")],
        id="version-number",
    ),
    pytest.param(
        lambda d: d.update(message_id=""),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "message_id")],
        id="empty-message-id",
    ),
    pytest.param(
        lambda d: d.update(message_id="x" * 201),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "message_id")],
        id="long-message-id",
    ),
    pytest.param(
        lambda d: d.update(message_id="\ud800"),
        [(ErrorCode.TYPE_MISMATCH, "message_id")],
        id="surrogate-id",
    ),
    pytest.param(
        lambda d: d.update(sent_at="2026-11-21T04:30:00"),
        [(ErrorCode.TYPE_MISMATCH, "sent_at")],
        id="naive-sent-at",
    ),
    pytest.param(
        lambda d: d.update(sent_at="yesterday"),
        [(ErrorCode.TYPE_MISMATCH, "sent_at")],
        id="garbage-sent-at",
    ),
    pytest.param(
        lambda d: d.update(sent_at="2026-02-30T04:30:00Z"),
        [(ErrorCode.TYPE_MISMATCH, "sent_at")],
        id="impossible-date",
    ),
    pytest.param(
        lambda d: d.update(issued_at=1763699405),
        [(ErrorCode.TYPE_MISMATCH, "issued_at")],
        id="epoch-issued-at",
    ),
    pytest.param(
        lambda d: d.update(command_id=None),
        [(ErrorCode.MISSING_FIELD, "command_id")],
        id="null-command-id",
    ),
    pytest.param(
        lambda d: d.update(command_id=7),
        [(ErrorCode.TYPE_MISMATCH, "command_id")],
        id="numeric-command-id",
    ),
    pytest.param(
        lambda d: d.update(priority=True),
        [(ErrorCode.TYPE_MISMATCH, "priority")],
        id="bool-priority",
    ),
    pytest.param(
        lambda d: d.update(priority=1.0),
        [(ErrorCode.TYPE_MISMATCH, "priority")],
        id="float-priority",
    ),
    pytest.param(
        lambda d: d.update(priority=-1),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "priority")],
        id="negative-priority",
    ),
    pytest.param(
        lambda d: d.update(schedule={}),
        [(ErrorCode.TYPE_MISMATCH, "schedule")],
        id="schedule-object",
    ),
    pytest.param(
        lambda d: d.update(schedule=[]),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule")],
        id="empty-schedule",
    ),
    pytest.param(
        lambda d: d["schedule"].append("entry"),
        [(ErrorCode.TYPE_MISMATCH, "schedule[4]")],
        id="entry-string",
    ),
    pytest.param(
        _drop_entry_field(0, "start"),
        [(ErrorCode.MISSING_FIELD, "schedule[0].start")],
        id="no-start",
    ),
    pytest.param(
        _set_entry(0, power_kw="1"),
        [(ErrorCode.TYPE_MISMATCH, "schedule[0].power_kw")],
        id="string-power",
    ),
    pytest.param(
        _set_entry(0, power_kw=True),
        [(ErrorCode.TYPE_MISMATCH, "schedule[0].power_kw")],
        id="bool-power",
    ),
    pytest.param(
        _set_entry(0, power_kw=1e6),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[0].power_kw")],
        id="absurd-power",
    ),
    pytest.param(
        _set_entry(0, power_kw=-100001),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[0].power_kw")],
        id="absurd-int-power",
    ),
    pytest.param(
        _set_entry(0, power_kw=10**400),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[0].power_kw")],
        id="huge-int-power",
    ),
    pytest.param(
        _drop_entry_field(0, "power_kw"),
        [(ErrorCode.MISSING_FIELD, "schedule[0].power_kw")],
        id="setpoint-without-power",
    ),
    pytest.param(
        _set_entry(0, mode="SETPOINT", power_kw=None),
        [(ErrorCode.MISSING_FIELD, "schedule[0].power_kw")],
        id="explicit-setpoint-null-power",
    ),
    pytest.param(
        _set_entry(0, mode="TURBO"),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[0].mode")],
        id="unknown-mode",
    ),
    pytest.param(
        _set_entry(0, mode=1), [(ErrorCode.TYPE_MISMATCH, "schedule[0].mode")], id="numeric-mode"
    ),
    pytest.param(
        _drop_entry_field(2, "max_charge_kw"),
        [(ErrorCode.MISSING_FIELD, "schedule[2].max_charge_kw")],
        id="limit-without-max",
    ),
    pytest.param(
        _set_entry(2, max_charge_kw=-1),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[2].max_charge_kw")],
        id="negative-max-charge",
    ),
    pytest.param(
        _set_entry(0, max_charge_kw=1),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[0].max_charge_kw")],
        id="max-charge-on-setpoint",
    ),
    pytest.param(
        _set_entry(3, power_kw=2),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[3].power_kw")],
        id="idle-with-power",
    ),
    pytest.param(
        _set_entry(1, power_kw=2),
        [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[1].power_kw")],
        id="no-discharge-with-power",
    ),
    pytest.param(
        _set_entry(1, start="2026-11-21T05:15:00Z"),
        [(ErrorCode.TIME_WINDOW_INVALID, "schedule[1]")],
        id="overlap",
    ),
    pytest.param(
        lambda d: d["schedule"].insert(0, dict(d["schedule"][0], power_kw="x")),
        [(ErrorCode.TYPE_MISMATCH, "schedule[0].power_kw")],
        id="broken-entry-skipped-in-overlap-check",
    ),
    pytest.param(
        _set_entry(0, end="2026-11-21T04:00:00Z", power_kw="x"),
        [
            (ErrorCode.TYPE_MISMATCH, "schedule[0].power_kw"),
            (ErrorCode.TIME_WINDOW_INVALID, "schedule[0].end"),
        ],
        id="window-checked-despite-other-errors",
    ),
    pytest.param(
        lambda d: d.update(priority=9, command_id="", schedule=[{"start": 1}]),
        [
            (ErrorCode.MISSING_FIELD, "schedule[0].end"),
            (ErrorCode.TYPE_MISMATCH, "schedule[0].start"),
            (ErrorCode.FIELD_OUT_OF_RANGE, "command_id"),
            (ErrorCode.FIELD_OUT_OF_RANGE, "priority"),
        ],
        id="all-errors-collected",
    ),
]


@pytest.mark.parametrize(("change", "expected"), FIELD_CASES)
def test_field_errors(
    change: Callable[[dict[str, Any]], None], expected: list[tuple[ErrorCode, str]]
) -> None:
    result = parse_command(mutated(change), now=NOW)
    assert not result.ok
    assert sorted((e.code, e.path) for e in result.errors) == sorted(expected)
    assert all(error.message for error in result.errors)
    with pytest.raises(ProtocolValidationError) as caught:
        result.unwrap()
    assert caught.value.errors == result.errors


def test_non_finite_numbers_are_out_of_range() -> None:
    text = json.dumps(valid_command()).replace("-2.5", "NaN")
    errors = parse_command(text, now=NOW).errors
    assert [(e.code, e.path) for e in errors] == [
        (ErrorCode.FIELD_OUT_OF_RANGE, "schedule[0].power_kw")
    ]
    text = json.dumps(valid_command()).replace("-2.5", "-Infinity")
    assert parse_command(text, now=NOW).errors[0].code is ErrorCode.FIELD_OUT_OF_RANGE
    text = json.dumps(valid_command()).replace("-2.5", "1e999")
    assert parse_command(text, now=NOW).errors[0].code is ErrorCode.FIELD_OUT_OF_RANGE


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"text"', id="string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep-nesting"),
        pytest.param(b"1" * 5000, id="int-too-long"),
        pytest.param(bytearray(b"{"), id="bytearray"),
        pytest.param(12, id="not-bytes"),
    ],
)
def test_malformed_payloads(payload: Any) -> None:
    errors = parse_command(payload, now=NOW).errors
    assert [(e.code, e.path) for e in errors] == [(ErrorCode.MESSAGE_MALFORMED, "")]


def test_too_large_payload_is_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    from bess_dispatch_core.protocol import validation

    monkeypatch.setattr(validation, "MAX_PAYLOAD_BYTES", 10)
    for payload in (payload_of(valid_command()), payload_of(valid_command()).decode()):
        assert parse_command(payload, now=NOW).errors[0].code is ErrorCode.MESSAGE_MALFORMED


def test_too_many_entries() -> None:
    # Empty entries: full ones this many would not fit in a broker packet.
    document = valid_command()
    document["schedule"] = [{}] * (MAX_SCHEDULE_ENTRIES + 1)
    errors = parse_command(payload_of(document), now=NOW).errors
    assert [(e.code, e.path) for e in errors] == [(ErrorCode.FIELD_OUT_OF_RANGE, "schedule")]


def test_broken_command_still_reports_ids() -> None:
    document = valid_command()
    document["priority"] = 7
    result = parse_command(payload_of(document), now=NOW)
    assert result.message_id == document["message_id"]
    assert result.command_id == document["command_id"]
    response = CommandResponse.rejected(
        in_reply_to=result.message_id, command_id=result.command_id, errors=result.errors, now=NOW
    )
    assert response.to_dict()["errors"][0]["path"] == "priority"


def test_expiry_is_at_or_before_now() -> None:
    document = valid_command()
    document["schedule"] = document["schedule"][:1]
    end = datetime(2026, 11, 21, 5, 30, tzinfo=UTC)
    assert parse_command(payload_of(document), now=end - timedelta(microseconds=1)).ok
    assert parse_command(payload_of(document), now=end).errors[0].code is ErrorCode.EXPIRED


def test_command_from_dict_needs_an_object() -> None:
    assert command_from_dict([1]).errors[0].code is ErrorCode.MESSAGE_MALFORMED
    # No expiry check for stored commands.
    document = valid_command()
    assert command_from_dict(document).ok


def test_command_constructor_rejects_bad_values() -> None:
    start = NOW
    entry = ScheduleEntry(start, start + timedelta(minutes=30), power_kw=1.0)
    with pytest.raises(ValueError, match="end"):
        ScheduleEntry(start, start, power_kw=1.0)
    with pytest.raises(ValueError, match="timezone-aware"):
        ScheduleEntry(start.replace(tzinfo=None), start, power_kw=1.0)
    with pytest.raises(ValueError, match="power_kw must be a number"):
        ScheduleEntry(start, start + timedelta(minutes=5), power_kw="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SETPOINT needs power_kw"):
        ScheduleEntry(start, start + timedelta(minutes=5))
    with pytest.raises(ValueError, match="priority"):
        Command.create(command_id="c", priority=5, schedule=[entry], now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        Command.create(command_id="c", priority=Priority.FALLBACK, schedule=[], now=NOW)
    with pytest.raises(ValueError, match="overlaps"):
        Command.create(command_id="c", priority=Priority.FALLBACK, schedule=[entry, entry], now=NOW)
    with pytest.raises(ValueError, match="not a ScheduleEntry"):
        Command.create(command_id="c", priority=Priority.FALLBACK, schedule=["x"], now=NOW)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="command_id"):
        Command.create(command_id="", priority=Priority.FALLBACK, schedule=[entry], now=NOW)
    with pytest.raises(ValueError, match="more than"):
        Command.create(
            command_id="c",
            priority=Priority.FALLBACK,
            schedule=[
                ScheduleEntry(
                    start + timedelta(minutes=i), start + timedelta(minutes=i + 1), power_kw=0.0
                )
                for i in range(MAX_SCHEDULE_ENTRIES + 1)
            ],
            now=NOW,
        )
    command = Command.create(command_id="c", priority=1, schedule=[entry], now=NOW)  # type: ignore[arg-type]
    assert command.priority is Priority.DAY_AHEAD
    assert (command.start, command.end) == (entry.start, entry.end)


# ---- fuzzing: parse_command never raises ------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=30,
)


def assert_well_formed(payload: bytes | str) -> None:
    result = parse_command(payload, now=NOW)
    if result.ok:
        assert result.errors == ()
        command = result.unwrap()
        # Whatever we accept, we can write and read back unchanged.
        assert parse_command(command.to_payload(), now=NOW).unwrap() == command
    else:
        assert result.errors
        assert all(isinstance(error.code, ErrorCode) for error in result.errors)
        # INTERNAL_ERROR would mean a bug in the parser.
        assert ErrorCode.INTERNAL_ERROR not in {error.code for error in result.errors}


@settings(max_examples=2000, deadline=None)
@given(st.binary())
def test_arbitrary_bytes_never_raise(payload: bytes) -> None:
    assert_well_formed(payload)


@settings(max_examples=2000, deadline=None)
@given(JSON_VALUES)
def test_arbitrary_json_never_raises(value: Any) -> None:
    assert_well_formed(json.dumps(value))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths.extend(_paths(child, (*prefix, index)))
    return paths


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_commands_never_raise(data: st.DataObject) -> None:
    document = valid_command()
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(document)[1:]))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "delete"]))
        if action == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON_VALUES)
    assert_well_formed(json.dumps(copy.deepcopy(document)))
