"""Reading a request body's fields: every problem is a 400 naming the field."""

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.util import dt as dt_util

from .errors import bad_field

MAX_AHEAD = timedelta(days=31)  # how far ahead an ``until`` may lie


def only_known(body: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_field(unknown[0], "is not a field of this request")


def text(body: dict[str, Any], name: str, choices: Iterable[str] | None = None) -> str:
    value = body.get(name)
    if value is None:
        raise bad_field(name, "is required")
    if not isinstance(value, str):
        raise bad_field(name, "must be a string")
    allowed = list(choices) if choices is not None else None
    if allowed is not None and value not in allowed:
        raise bad_field(name, f"must be one of {', '.join(allowed)}")
    return value


def number(body: dict[str, Any], name: str, *, minimum: float | None = None) -> float:
    value = body.get(name)
    if value is None:
        raise bad_field(name, "is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_field(name, "must be a number (kW)")
    result = float(value)
    if not math.isfinite(result):
        raise bad_field(name, "must be finite")
    if minimum is not None and result < minimum:
        raise bad_field(name, f"must be at least {minimum:g}")
    return result


def instant(body: dict[str, Any], name: str, now: datetime) -> datetime:
    """A time with a zone, within MAX_AHEAD of now (past or future: the caller decides)."""
    value = body.get(name)
    if value is None:
        raise bad_field(name, "is required")
    if not isinstance(value, str):
        raise bad_field(name, "must be an ISO 8601 time string")
    parsed = dt_util.parse_datetime(value)
    if parsed is None:
        raise bad_field(name, f"must be an ISO 8601 time, got {value[:40]!r}")
    if parsed.tzinfo is None:
        raise bad_field(name, "must carry a time zone (e.g. Z or +09:00)")
    if parsed > now + MAX_AHEAD:
        raise bad_field(name, f"must be within {MAX_AHEAD.days} days from now")
    return dt_util.as_utc(parsed)


def future(body: dict[str, Any], name: str, now: datetime) -> datetime:
    value = instant(body, name, now)
    if value <= now:
        raise bad_field(name, "must be in the future")
    return value
