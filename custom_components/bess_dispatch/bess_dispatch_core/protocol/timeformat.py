"""RFC 3339 timestamps and ISO-8601 durations as the protocol writes them.

Timestamps are always timezone-aware; output is UTC with a ``Z`` and milliseconds (six
digits only when the value carries sub-millisecond precision, so round trips are exact).
Durations support weeks, days, hours, minutes and (fractional) seconds; years and months
have no fixed length and are refused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

_RFC3339 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_DURATION = re.compile(
    r"P(?:(?P<weeks>[0-9]+)W|(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+(?:\.[0-9]{1,6})?)S)?)?)",
    re.ASCII,
)
# Far beyond any schedule, well inside timedelta's range.
_MAX_DURATION = timedelta(days=100 * 366)


def parse_datetime(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with a UTC offset (``Z`` or ``+09:00``)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp with a UTC offset")
    # fromisoformat keeps microseconds at most; longer fractions are cut to six digits.
    fraction = match["fraction"]
    micro = f".{fraction[:6].ljust(6, '0')}" if fraction else ""
    offset = "+00:00" if match["offset"] in ("Z", "z") else match["offset"]
    try:
        value = datetime.fromisoformat(f"{match['date']}T{match['time']}{micro}{offset}")
    except ValueError as err:
        raise ValueError(f"{text!r} is not a valid date and time: {err}") from None
    try:
        value.astimezone(UTC)  # e.g. year 1 at +01:00 has no UTC form to write back
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None
    return value


def format_datetime(value: datetime) -> str:
    """Format an aware datetime as UTC, e.g. ``2026-11-21T04:30:00.120Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value!r} is naive; the protocol needs a UTC offset")
    utc = value.astimezone(UTC)
    fraction = (
        f"{utc.microsecond // 1000:03d}"
        if utc.microsecond % 1000 == 0
        else f"{utc.microsecond:06d}"
    )
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{fraction}Z"


def is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def truncate_to_milliseconds(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration such as ``PT5M``, ``PT30M``, ``P1D``, ``PT0.5S``."""
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO-8601 duration such as PT5M or P1D")
    parts = match.groupdict()
    try:
        seconds = Decimal(parts["seconds"] or 0)
        value = timedelta(
            weeks=int(parts["weeks"] or 0),
            days=int(parts["days"] or 0),
            hours=int(parts["hours"] or 0),
            minutes=int(parts["minutes"] or 0),
            microseconds=int(seconds * 1_000_000),
        )
    except (OverflowError, InvalidOperation, ValueError):
        raise ValueError(f"duration {text!r} is too long") from None
    if value > _MAX_DURATION:
        raise ValueError(f"duration {text!r} is too long")
    return value


def format_duration(value: timedelta) -> str:
    """Format a non-negative duration canonically: ``PT5M``, ``PT30M``, ``P1D``, ``PT0S``."""
    if value < timedelta(0):
        raise ValueError(f"duration {value} is negative")
    days = value.days
    seconds = value.seconds
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    date_part = f"{days}D" if days else ""
    time_part = ""
    if hours:
        time_part += f"{hours}H"
    if minutes:
        time_part += f"{minutes}M"
    if seconds or value.microseconds:
        fraction = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
        time_part += f"{seconds}{fraction}S"
    if not date_part and not time_part:
        return "PT0S"
    return f"P{date_part}" + (f"T{time_part}" if time_part else "")
