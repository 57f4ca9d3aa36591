"""Timestamps, durations and schema versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bess_dispatch_core.protocol import (
    CURRENT_VERSION,
    SCHEMA_VERSION,
    SchemaVersion,
    format_datetime,
    format_duration,
    is_supported,
    parse_datetime,
    parse_duration,
)

JST = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T04:30:00Z", datetime(2026, 11, 21, 4, 30, tzinfo=UTC)),
        ("2026-11-21t04:30:00z", datetime(2026, 11, 21, 4, 30, tzinfo=UTC)),
        ("2026-11-21T13:30:00+09:00", datetime(2026, 11, 21, 13, 30, tzinfo=JST)),
        ("2026-11-21T04:30:00.12Z", datetime(2026, 11, 21, 4, 30, 0, 120_000, tzinfo=UTC)),
        (
            "2026-11-21T04:30:00.123456789-00:00",
            datetime(2026, 11, 21, 4, 30, 0, 123_456, tzinfo=UTC),
        ),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-21T04:30:00",  # no offset
        "2026-11-21",
        "2026-11-21T04:30Z",  # no seconds
        "2026-11-21 04:30:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-21T04:30:00+25:00",
        "2026-11-21T04:30:60Z",
        "\uff12\uff10\uff12\uff16-11-21T04:30:00Z",  # fullwidth digits
        "2026-11-21T04:30:00Z\n",
        "0001-01-01T00:00:00+01:00",  # no UTC form
    ],
)
def test_parse_datetime_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"RFC 3339|valid date|out of range"):
        parse_datetime(text)


def test_format_datetime() -> None:
    assert format_datetime(datetime(2026, 11, 21, 13, 30, tzinfo=JST)) == "2026-11-21T04:30:00.000Z"
    assert (
        format_datetime(datetime(2026, 1, 1, 0, 0, 0, 120_000, tzinfo=UTC))
        == "2026-01-01T00:00:00.120Z"
    )
    assert (
        format_datetime(datetime(2026, 1, 1, 0, 0, 0, 120_001, tzinfo=UTC))
        == "2026-01-01T00:00:00.120001Z"
    )
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime(2026, 1, 1))


@given(st.datetimes(timezones=st.timezones()).filter(lambda d: d.utcoffset() is not None))
def test_datetime_round_trip(value: datetime) -> None:
    try:
        text = format_datetime(value)
    except OverflowError:  # pragma: no cover - years 1 and 9999 at extreme offsets
        return
    # Compare in UTC: PEP 495 makes times in a DST gap unequal to every other zone.
    assert parse_datetime(text) == value.astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        ("PT5M", timedelta(minutes=5), "PT5M"),
        ("PT30M", timedelta(minutes=30), "PT30M"),
        ("P1D", timedelta(days=1), "P1D"),
        ("PT1S", timedelta(seconds=1), "PT1S"),
        ("PT0.5S", timedelta(milliseconds=500), "PT0.5S"),
        ("P1W", timedelta(weeks=1), "P7D"),
        ("PT60M", timedelta(hours=1), "PT1H"),
        (
            "P1DT2H3M4.000005S",
            timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5),
            "P1DT2H3M4.000005S",
        ),
        ("PT0S", timedelta(0), "PT0S"),
    ],
)
def test_durations(text: str, expected: timedelta, canonical: str) -> None:
    assert parse_duration(text) == expected
    assert format_duration(expected) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "P",
        "PT",
        "P1DT",
        "PT5",
        "5M",
        "P1Y",
        "P1M",
        "PT-5M",
        "P1W1D",
        "P99999999D",
        "P99999999999999999999W",
        "PT1.1234567S",
    ],
)
def test_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_negative_duration_cannot_be_formatted() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3000)))
def test_duration_round_trip(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


def test_versions() -> None:
    assert SCHEMA_VERSION == "2.4.0"
    assert str(CURRENT_VERSION) == SCHEMA_VERSION
    assert is_supported(SchemaVersion.parse("2.0.0"))
    assert is_supported(SchemaVersion.parse("2.17.3"))
    assert not is_supported(SchemaVersion.parse("3.0.0"))
    assert not is_supported(SchemaVersion.parse("1.3.0"))
    assert SchemaVersion.parse("2.10.0") > SchemaVersion.parse("2.9.9")
    for text in ("2.3", "02.3.0", "2.3.0-beta", "v2.3.0", "2.3.0 ", "٢.3.0"):
        with pytest.raises(ValueError, match=r"MAJOR\.MINOR\.PATCH"):
            SchemaVersion.parse(text)
