"""Strict readers for the fields of a site's state file.

The file is ours, but a crash, a full disk or a hand edit can leave anything in it. Each
reader returns the field's value with its type checked, or raises :class:`StateFieldError`
naming the field, so a damaged file is refused whole instead of breaking a later round
(``"soe_kwh": "abc"`` used to fail every planning round).
"""

from __future__ import annotations

import math
from datetime import datetime


class StateFieldError(ValueError):
    """A state file field is missing or of the wrong type or range."""


def mapping(value: object, field: str) -> dict[str, object]:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise StateFieldError(f"{field}: expected an object")
    return value


def sequence(value: object, field: str, *, length: int | None = None) -> list[object]:
    if not isinstance(value, list):
        raise StateFieldError(f"{field}: expected a list")
    if length is not None and len(value) != length:
        raise StateFieldError(f"{field}: expected {length} items, got {len(value)}")
    return value


def number(value: object, field: str) -> float:
    """A finite number (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StateFieldError(f"{field}: expected a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise StateFieldError(f"{field}: {value!r} is not finite")
    return float(value)


def optional_number(value: object, field: str) -> float | None:
    return None if value is None else number(value, field)


def text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise StateFieldError(f"{field}: expected a string")
    return value


def optional_text(value: object, field: str) -> str | None:
    return None if value is None else text(value, field)


def moment(value: object, field: str) -> datetime:
    """An ISO-8601 time with its UTC offset (naive times cannot be compared with ours)."""
    try:
        parsed = datetime.fromisoformat(text(value, field))
    except ValueError:
        raise StateFieldError(f"{field}: {value!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise StateFieldError(f"{field}: {value!r} has no UTC offset")
    return parsed


def optional_moment(value: object, field: str) -> datetime | None:
    return None if value is None else moment(value, field)
